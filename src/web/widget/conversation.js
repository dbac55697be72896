// The controller: the visitor's actions become queued calls (the outbox, sent in order, retried
// with the same Idempotency-Key until answered), and the live stream's events become the view.

function Widget(client, memory, settings) {
  var self = this;
  this.client = client;
  this.memory = memory;
  this.listeners = {};
  this.opened = false;
  this.stream = null;
  this.failures = 0;
  this.retryTimer = null;
  this.view = new View(settings, {
    toggle: function (open) {
      self.toggle(open);
    },
    send: function (text) {
      return self.send(text);
    },
    restart: function () {
      self.restart();
    },
    identity: function (name, email) {
      memory.data.identity.name = name;
      memory.data.identity.email = email;
      memory.save();
    },
  });
}

Widget.prototype.start = function () {
  var self = this;
  var d = this.memory.data;
  this.view.mount();
  this.view.identity(d.identity);
  this.client.token = d.visitorToken || null;
  this.view.mode(d.conversationId ? (d.status === 'ended' ? 'ended' : 'active') : this.starting() ? 'active' : 'new');
  d.outbox.forEach(function (op) {
    if (op.kind === 'message') self.view.message({ key: op.key, from: 'visitor', userName: d.visitorName || '', text: op.text, createdAt: op.createdAt, state: 'pending' });
  });
  this.view.unreadCount(d.unread || 0);
  this.view.online(navigator.onLine !== false);
  if (d.conversationId && d.status === 'ended') this.history();
  else if (d.conversationId) this.connect();
  if (d.open) this.toggle(true);
  window.addEventListener('online', function () {
    self.view.online(true);
    if (self.stream) self.stream.now();
    self.pump(true);
  });
  window.addEventListener('offline', function () {
    self.view.online(false);
  });
  window.addEventListener('storage', function (e) {
    if (e.key === self.memory.key) self.elsewhere();
  });
  this.pump();
};

// Whether a start is already queued (the first message was typed offline).
Widget.prototype.starting = function () {
  return this.memory.data.outbox.some(function (op) {
    return op.kind === 'start';
  });
};

Widget.prototype.send = function (text) {
  var d = this.memory.data;
  text = text.trim();
  if (!d.conversationId && !this.starting()) {
    var email = (d.identity.email || '').trim();
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      this.view.badEmail();
      return false;
    }
    this.memory.push({ kind: 'start', identity: this.identity() });
    if (email) this.memory.push({ kind: 'email', email: email });
    this.view.mode('active');
  }
  var op = this.memory.push({ kind: 'message', text: text, createdAt: new Date().toISOString() });
  this.view.message({ key: op.key, from: 'visitor', userName: d.visitorName || '', text: text, createdAt: op.createdAt, state: 'pending' });
  this.pump();
  return true;
};

// What the page tells about the visitor, with what they typed or `identify` gave, made to fit
// the server's rules (README, "Abuse limits") so that no page gets the start refused: long values
// cut, a long URL without its query and fragment, a URL that is not http(s) or a phone that is
// not one left out.
Widget.prototype.identity = function () {
  var id = this.memory.data.identity;
  var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
  var phone = clip(id.phone, 50).trim();
  if (!/^[0-9 +\-().]*$/.test(phone) || (phone.match(/[0-9]/g) || []).length < 3) phone = '';
  return {
    name: clip(id.name, 200).trim(),
    phone: phone,
    location: pageUrl(),
    title: clip(document.title, 500),
    languages: langs.filter(Boolean).reduce(function (all, l) {
      var next = all ? all + ',' + l : l;
      return next.length <= 200 ? next : all;
    }, ''),
  };
};

// At most `n` characters (code points, as the server counts) of `s`, control characters as spaces.
function clip(s, n) {
  return Array.from(String(s || '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')).slice(0, n).join('');
}

// The page's URL in at most 2,048 characters, or '' when it is not http(s).
function pageUrl() {
  var l = window.location;
  if (!/^https?:$/.test(l.protocol)) return '';
  var candidates = [l.href, l.origin + l.pathname, l.origin + '/'];
  for (var i = 0; i < candidates.length; i++) if (Array.from(candidates[i]).length <= 2048) return candidates[i];
  return '';
}

// Sends the outbox's first call; on success the next. `now` skips a pending back-off.
Widget.prototype.pump = function (now) {
  var self = this;
  if (now) {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
  var op = this.memory.data.outbox[0];
  if (this.busy || this.retryTimer || !op) return;
  this.busy = true;
  this.perform(op).then(
    function () {
      self.busy = false;
      self.failures = 0;
      self.memory.drop(op);
      self.view.online(true);
      self.view.problem('');
      self.pump();
    },
    function (err) {
      self.busy = false;
      self.failed(op, err);
    }
  );
};

Widget.prototype.failed = function (op, err) {
  var self = this;
  if (!(err instanceof CallError)) err = new CallError(-1, String(err && err.message));
  if (err.retry) {
    if (err.status === 0) this.view.online(false);
    var delay = err.retryAfter > 0 ? err.retryAfter * 1000 : Math.min(30000, 1000 * Math.pow(2, this.failures));
    this.failures = Math.min(this.failures + 1, 6);
    this.retryTimer = setTimeout(function () {
      self.retryTimer = null;
      self.pump();
    }, delay);
    return;
  }
  if ((err.status === 401 || err.status === 404) && op.kind !== 'start') {
    // The server no longer knows this visitor or conversation: begin again, keeping the message.
    this.forget();
    this.memory.data.outbox.unshift({ kind: 'start', key: newKey(), identity: this.identity() });
    this.memory.save();
    return this.pump();
  }
  this.memory.drop(op);
  if (op.kind === 'message') this.view.message({ key: op.key, state: 'failed', error: err.detail });
  else this.view.problem(err.detail);
  if (op.kind === 'start') this.view.mode('new');
  this.pump();
};
