// The three calls of the outbox, and what their answers change.

Widget.prototype.perform = function (op) {
  var self = this;
  var d = this.memory.data;
  if (op.kind === 'start') {
    var body = { identity: op.identity };
    if (d.visitorToken) body.visitorToken = d.visitorToken;
    return this.client.call('POST', '/conversations', body, op.key).then(function (a) {
      d.visitorToken = a.visitorToken;
      d.visitorName = a.visitorName;
      self.client.token = a.visitorToken;
      self.adopt(a.conversationId, a.status);
    });
  }
  var path = '/conversations/' + encodeURIComponent(d.conversationId || '');
  if (op.kind === 'email') {
    return this.client.call('PUT', path + '/email', { email: op.email }, op.key);
  }
  return this.client.call('POST', path + '/messages', { text: op.text }, op.key).then(function (m) {
    if (m.conversationId && m.conversationId !== d.conversationId) self.adopt(m.conversationId, 'waiting');
    self.incoming(m, 'visitor', op.key);
  });
};

// From now on the visitor's conversation is `id`.
Widget.prototype.adopt = function (id, status) {
  var d = this.memory.data;
  if (d.conversationId === id) return;
  d.conversationId = id;
  d.status = status;
  this.memory.save();
  this.view.mode(status === 'ended' ? 'ended' : 'active');
  this.connect();
};

Widget.prototype.connect = function () {
  var self = this;
  if (this.stream) this.stream.stop();
  this.statusSeen = null;
  this.stream = new Stream(this.client, this.memory.data.conversationId, {
    event: function (name, data) {
      if (name === 'message') self.incoming(data, data.from === 'agent' ? 'agent' : 'visitor');
      else if (name === 'status') self.status(data);
    },
    fatal: function (status) {
      if (status === 403) return;
      self.forget();
      self.view.clear();
      self.view.mode('new');
    },
    connected: function (up) {
      if (up) self.view.online(true);
    },
  });
  this.stream.start();
};

// A message of the conversation, from our own call's answer or from the stream.
Widget.prototype.incoming = function (m, from, key) {
  var view = this.view;
  var known = view.byId[m.id];
  if (known) {
    // Already shown (the stream's echo came first): a pending copy of it must not stay behind.
    if (key && view.byKey[key] && view.byKey[key] !== known) view.byKey[key].remove();
    return;
  }
  if (!key && from === 'visitor') {
    // Our own message's echo may come before the answer to its call: match it to the pending one.
    key = this.memory.data.outbox
      .filter(function (op) {
        return op.kind === 'message' && op.text === m.text && view.byKey[op.key] && !view.byKey[op.key].getAttribute('data-id');
      })
      .map(function (op) {
        return op.key;
      })[0];
  }
  view.message({ id: m.id, key: key, from: from, userName: m.userName, userPicture: m.userPicture, createdAt: m.createdAt, text: m.text, state: 'sent' });
  var d = this.memory.data;
  if (from === 'agent' && m.createdAt > (d.seenUntil || '')) {
    if (this.opened && !document.hidden) d.seenUntil = m.createdAt;
    else d.unread = (d.unread || 0) + 1;
    this.memory.save();
    this.view.unreadCount(d.unread || 0);
    this.emit('unread', d.unread || 0);
  }
  this.newest = m.createdAt > (this.newest || '') ? m.createdAt : this.newest;
  this.emit('message', { from: from, text: m.text, userName: m.userName });
};

// The conversation's status (and agent): the first one of a stream is the state, later ones news.
Widget.prototype.status = function (s) {
  var first = this.statusSeen === null;
  var before = this.statusSeen || {};
  this.statusSeen = s;
  var name = s.agent && s.agent.name;
  if (s.agent) this.view.agent(s.agent);
  if (!first && name && (before.status !== 'open' || (before.agent && before.agent.name) !== name) && s.status !== 'ended') {
    this.view.notice(name + ' joined the conversation');
  }
  this.memory.data.status = s.status;
  this.memory.save();
  if (s.status === 'ended') {
    // Nothing more will happen here: close the stream, and read what it may not have sent yet.
    this.stream.stop();
    this.history();
  }
};

// The whole conversation read once (an ended one is not streamed), then its end shown.
Widget.prototype.history = function () {
  var self = this;
  var id = this.memory.data.conversationId;
  this.client.call('GET', '/conversations/' + encodeURIComponent(id)).then(
    function (c) {
      if (self.memory.data.conversationId !== id) return;
      (c.messages || []).forEach(function (m) {
        self.incoming(m, m.from === 'agent' ? 'agent' : 'visitor');
      });
      if (c.agent) self.view.agent(c.agent);
      if (c.status === 'ended') {
        self.view.notice('This conversation has ended');
        self.view.mode('ended');
      } else self.connect();
    },
    function (err) {
      if (err.status === 401 || err.status === 404) {
        self.forget();
        self.view.clear();
        self.view.mode('new');
      }
    }
  );
};

// Forgets the conversation (and the token, which the server no longer accepts).
Widget.prototype.forget = function () {
  if (this.stream) this.stream.stop();
  this.stream = null;
  delete this.memory.data.visitorToken;
  this.client.token = null;
  this.memory.forgetConversation();
};

// After `end`: the same visitor starts over with the greeting.
Widget.prototype.restart = function () {
  if (this.stream) this.stream.stop();
  this.stream = null;
  this.memory.forgetConversation();
  this.view.clear();
  this.view.mode('new');
  this.view.open(true);
};

// Another tab of this site changed the conversation: follow it.
Widget.prototype.elsewhere = function () {
  var before = this.memory.data.conversationId;
  this.memory.reload();
  var d = this.memory.data;
  this.client.token = d.visitorToken || null;
  if (d.conversationId === before) return;
  this.view.clear();
  this.view.mode(d.conversationId ? 'active' : 'new');
  if (d.conversationId) this.connect();
};
