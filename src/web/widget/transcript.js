// What changes in the view as the conversation goes: messages (pending, sent, failed), notices,
// the agent in the header, open or closed, unread count, offline banner, and the three modes —
// `new` (no conversation yet: the intro form shows), `active`, `ended` (the restart button).

// Adds a message, or updates the one with the same id (or the same local key) in place.
// m: {id?, key?, from, userName, userPicture, createdAt, text, state}
View.prototype.message = function (m) {
  var node = (m.id && this.byId[m.id]) || (m.key && this.byKey[m.key]);
  if (node) {
    this.settle(node, m);
    return node;
  }
  var agent = m.from === 'agent';
  var prev = this.transcript.lastElementChild;
  var follows = prev && prev.getAttribute('data-part') === 'message' && prev.getAttribute('data-from') === m.from && prev.getAttribute('data-author') === m.userName;
  node = el('div', { class: 'pv-msg ' + (agent ? 'pv-agent' : 'pv-visitor') + (follows ? ' pv-follows' : ''), 'data-part': 'message', 'data-from': m.from, 'data-author': m.userName }, [
    agent ? avatar(m.userName, m.userPicture) : null,
    el('div', { class: 'pv-body' }, [
      el('div', { class: agent ? 'pv-author' : 'pv-author pv-sr', 'data-part': 'author', text: agent ? m.userName : 'You' }),
      el('div', { class: 'pv-text', 'data-part': 'text' }, [richText(m.text)]),
      el('div', { class: 'pv-meta' }, [el('time', { 'data-part': 'time', datetime: m.createdAt, text: clock(m.createdAt) }), el('span', { class: 'pv-state' })]),
    ]),
  ]);
  this.settle(node, m);
  var near = this.nearBottom();
  this.transcript.appendChild(node);
  if (near || !agent) this.toBottom();
  return node;
};

View.prototype.settle = function (node, m) {
  if (m.id) {
    node.setAttribute('data-id', m.id);
    this.byId[m.id] = node;
  }
  if (m.key) this.byKey[m.key] = node;
  var state = m.state || 'sent';
  node.setAttribute('data-state', state);
  var label = node.querySelector('.pv-state');
  label.textContent = state === 'pending' ? 'Sending…' : state === 'failed' ? 'Not sent: ' + (m.error || 'refused') : '';
  if (m.createdAt) {
    var t = node.querySelector('time');
    t.setAttribute('datetime', m.createdAt);
    t.textContent = clock(m.createdAt);
  }
};

View.prototype.notice = function (text) {
  this.transcript.appendChild(el('div', { class: 'pv-notice', 'data-part': 'notice', role: 'status', text: text }));
  this.toBottom();
};

View.prototype.nearBottom = function () {
  var t = this.transcript;
  return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
};

View.prototype.toBottom = function () {
  var t = this.transcript;
  t.scrollTop = t.scrollHeight;
};

// Back to the greeting alone, for a new conversation.
View.prototype.clear = function () {
  this.transcript.textContent = '';
  this.byId = {};
  this.byKey = {};
  this.greet();
  this.agent(null);
};

View.prototype.agent = function (a) {
  this.faces.textContent = '';
  this.faces.appendChild(a ? avatar(a.name, a.picture) : teamAvatar());
  this.subtitle.textContent = a ? a.name + ' is here to help you' : 'Ask us anything, we reply right here.';
};

View.prototype.mode = function (mode) {
  this.intro.hidden = mode !== 'new';
  this.ended.hidden = mode !== 'ended';
  this.composer.hidden = mode === 'ended';
  this.root.setAttribute('data-mode', mode);
};

View.prototype.open = function (open) {
  this.root.setAttribute('data-open', open ? 'true' : 'false');
  this.panel.hidden = !open;
  this.bubble.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
  this.bubble.setAttribute('aria-expanded', open ? 'true' : 'false');
  if (open) {
    this.toBottom();
    var target = this.composer.hidden ? this.restart : this.input;
    setTimeout(function () {
      target.focus({ preventScroll: true });
    }, 0);
  }
};

View.prototype.unreadCount = function (n) {
  this.unread.hidden = !n;
  this.unread.textContent = n > 99 ? '99+' : String(n);
  this.bubble.setAttribute('aria-label', this.panel.hidden ? (n ? 'Open chat, ' + n + ' unread' : 'Open chat') : 'Close chat');
};

View.prototype.online = function (online) {
  this.offline.hidden = online;
};

View.prototype.problem = function (text) {
  this.error.hidden = !text;
  this.error.textContent = text || '';
};

View.prototype.badEmail = function () {
  this.emailError.hidden = false;
  this.email.setAttribute('aria-invalid', 'true');
  this.email.focus();
};

View.prototype.identity = function (id) {
  if (id.name && !this.name.value) this.name.value = id.name;
  if (id.email && !this.email.value) this.email.value = id.email;
};

View.prototype.show = function (visible) {
  this.host.style.setProperty('display', visible ? 'block' : 'none', 'important');
};
