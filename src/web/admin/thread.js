// The agent console's right side: one conversation — its transcript, the visitor's identity,
// and what the agent does (join, reply, end; `.end` typed alone ends it too). Used by
// conversations.js as `new Thread(root, actingAs)`.
(function () {
  'use strict';
  var C = window.Console;
  var el = C.el;

  var IDENTITY = [
    ['name', 'Name'],
    ['email', 'Email'],
    ['phone', 'Phone'],
    ['location', 'Page'],
    ['title', 'Page title'],
    ['userAgent', 'Browser'],
    ['languages', 'Languages'],
    ['ip', 'IP address'],
  ];

  function Thread(root, actingAs) {
    this.root = root;
    this.actingAs = actingAs; // () => the agent id to act as
    this.current = null;
    this.ids = {};
    this.empty();
  }

  Thread.prototype.empty = function () {
    this.current = null;
    this.root.textContent = '';
    this.root.appendChild(
      el('div', { class: 'thread-empty' }, [
        el('strong', { text: 'No conversation selected' }),
        el('p', { text: 'Pick a visitor on the left. New visitors appear there as soon as they write.' }),
      ])
    );
  };

  Thread.prototype.open = function (id) {
    var self = this;
    this.loading = id;
    return C.api('GET', '/conversations/' + encodeURIComponent(id)).then(
      function (c) {
        if (self.loading !== id) return;
        self.draw(c);
      },
      function (err) {
        C.toast(err.detail, 'error');
      }
    );
  };

  Thread.prototype.draw = function (c) {
    var self = this;
    this.current = c;
    this.ids = {};
    this.root.textContent = '';
    this.status = el('span', { class: 'pill pill-' + c.status, 'data-test': 'thread-status', text: c.status });
    this.joinButton = el('button', { class: 'button button-secondary', type: 'button', 'data-test': 'join', text: 'Join', onclick: function () { self.act('join'); } });
    this.endButton = el('button', { class: 'button button-danger', type: 'button', 'data-test': 'end', text: 'End', onclick: function () { self.act('end'); } });
    var back = el('button', { class: 'thread-back button-small button button-secondary', type: 'button', 'aria-label': 'Back to the list', text: '←', onclick: function () { document.body.classList.remove('show-thread'); } });
    this.header = el('header', { class: 'thread-head' }, [
      back,
      el('span', { class: 'face', 'aria-hidden': 'true', text: initial(c.visitorName) }),
      el('div', { class: 'thread-who' }, [
        el('h2', { 'data-test': 'thread-visitor', text: c.visitorName }),
        el('p', { class: 'muted mono', text: '#' + c.channelName }),
      ]),
      this.status,
      el('div', { class: 'thread-actions' }, [
        this.joinButton,
        this.endButton,
        el('button', { class: 'button button-secondary thread-info', type: 'button', 'aria-expanded': 'false', 'data-test': 'visitor-info', text: 'Visitor', onclick: function (e) { var open = self.root.classList.toggle('show-side'); e.currentTarget.setAttribute('aria-expanded', open ? 'true' : 'false'); } }),
      ]),
    ]);
    this.log = el('div', { class: 'thread-log', role: 'log', 'aria-label': 'Transcript', 'data-test': 'transcript', tabindex: '0' });
    this.input = el('textarea', { rows: '2', maxlength: '10000', 'aria-label': 'Reply to the visitor', 'data-test': 'reply', placeholder: 'Write a reply… (Enter sends, Shift+Enter new line, .end ends the conversation)' });
    this.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        self.reply();
      }
    });
    this.send = el('button', { class: 'button', type: 'submit', 'data-test': 'send', text: 'Send' });
    this.composer = el('form', { class: 'thread-compose', onsubmit: function (e) { e.preventDefault(); self.reply(); } }, [this.input, this.send]);
    this.identity = el('dl', { class: 'identity', 'data-test': 'identity' });
    this.root.appendChild(el('div', { class: 'thread-main' }, [this.header, this.log, this.composer]));
    var closeSide = el('button', { class: 'button button-secondary button-small thread-side-close', type: 'button', text: 'Close', onclick: function () { self.root.classList.remove('show-side'); } });
    this.root.appendChild(el('aside', { class: 'thread-side', 'aria-label': 'Visitor' }, [closeSide, el('h3', { text: 'Visitor' }), this.identity, el('h3', { text: 'Agent' }), this.agentBox = el('p', { class: 'muted', 'data-test': 'thread-agent' })]));
    // The transcript with the agents' private notes (thread replies in Slack) in time order.
    var items = (c.messages || []).map(function (m) {
      return { at: m.createdAt, message: m };
    });
    (c.notes || []).forEach(function (n) {
      items.push({ at: n.createdAt, note: n });
    });
    items.sort(function (a, b) {
      return a.at < b.at ? -1 : a.at > b.at ? 1 : 0;
    });
    items.forEach(function (item) {
      if (item.message) self.message(item.message);
      else self.note(item.note);
    });
    this.drawIdentity(c.identity || {});
    this.drawState();
    this.log.scrollTop = this.log.scrollHeight;
  };

  Thread.prototype.drawIdentity = function (identity) {
    var dl = this.identity;
    dl.textContent = '';
    IDENTITY.forEach(function (pair) {
      var v = identity[pair[0]] || '';
      var value = v ? (pair[0] === 'location' && /^https?:\/\//.test(v) ? el('a', { href: v, target: '_blank', rel: 'noopener noreferrer', text: v }) : v) : el('span', { class: 'muted', text: '—' });
      dl.appendChild(el('dt', { text: pair[1] }));
      dl.appendChild(el('dd', { 'data-field': pair[0] }, [value]));
    });
  };

  Thread.prototype.drawState = function () {
    var c = this.current;
    this.status.className = 'pill pill-' + c.status;
    this.status.textContent = c.status;
    this.joinButton.hidden = c.status !== 'waiting';
    this.endButton.hidden = c.status === 'ended';
    this.composer.hidden = c.status === 'ended';
    var agent = c.agent;
    this.agentBox.textContent = agent ? (agent.real_name || agent.name || agent.id) : 'No agent yet';
  };

  Thread.prototype.message = function (m) {
    if (m.id && this.ids[m.id]) return;
    if (m.id) this.ids[m.id] = true;
    var from = m.from || 'visitor';
    var near = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    this.log.appendChild(
      el('div', { class: 'msg msg-' + from, 'data-test': 'message', 'data-from': from }, [
        el('div', { class: 'msg-meta' }, [el('strong', { text: m.userName }), ' ', el('time', { datetime: m.createdAt, text: C.when(m.createdAt) })]),
        el('div', { class: 'msg-text' }, [C.richText(m.text)]),
      ])
    );
    if (near || from === 'agent') this.log.scrollTop = this.log.scrollHeight;
  };

  // A note between agents: never shown to the visitor nor sent in webhooks.
  Thread.prototype.note = function (n) {
    this.log.appendChild(
      el('div', { class: 'note', 'data-test': 'note' }, [
        el('div', { class: 'msg-meta' }, [el('strong', { text: 'Private note' }), ' · ' + n.userName + ' ', el('time', { datetime: n.createdAt, text: C.when(n.createdAt) })]),
        el('div', { class: 'msg-text' }, [C.richText(n.text)]),
      ])
    );
  };

  Thread.prototype.notice = function (text) {
    this.log.appendChild(el('div', { class: 'thread-notice', text: text }));
    this.log.scrollTop = this.log.scrollHeight;
  };

  // A change of the conversation shown, from the team's stream.
  Thread.prototype.changed = function (id, status, agent) {
    if (!this.current || this.current.id !== id) return;
    if (status && status !== this.current.status) {
      this.current.status = status;
      this.notice(status === 'ended' ? 'The conversation ended' : status === 'open' ? 'An agent joined' : status);
    }
    if (agent) this.current.agent = agent;
    this.drawState();
  };

  Thread.prototype.email = function (email) {
    if (!this.current) return;
    this.current.identity = this.current.identity || {};
    this.current.identity.email = email;
    this.drawIdentity(this.current.identity);
  };

  Thread.prototype.agentOrComplain = function () {
    var agent = this.actingAs();
    if (!agent) C.toast('Choose the agent you act as first (top of the list).', 'error');
    return agent;
  };

  Thread.prototype.act = function (what) {
    var c = this.current;
    var agent = this.agentOrComplain();
    if (!c || !agent) return;
    var self = this;
    C.api('POST', '/conversations/' + encodeURIComponent(c.id) + '/' + what, { agentId: agent }).then(
      function (answer) {
        if (answer && answer.status) self.changed(c.id, answer.status);
      },
      function (err) {
        C.toast(err.detail, 'error');
      }
    );
  };

  Thread.prototype.reply = function () {
    var c = this.current;
    var text = this.input.value;
    if (!c || !text.trim()) return;
    var agent = this.agentOrComplain();
    if (!agent) return;
    var self = this;
    this.send.disabled = true;
    C.api('POST', '/conversations/' + encodeURIComponent(c.id) + '/messages', { agentId: agent, text: text }).then(
      function (answer) {
        self.send.disabled = false;
        self.input.value = '';
        self.input.focus();
        if (answer && answer.text !== undefined && answer.id) self.message({ id: answer.id, from: 'agent', userName: answer.userName, createdAt: answer.createdAt, text: answer.text });
        if (answer && answer.status) self.changed(c.id, answer.status);
      },
      function (err) {
        self.send.disabled = false;
        C.toast(err.detail, 'error');
      }
    );
  };

  function initial(name) {
    return (name || '?').replace(/^[^A-Za-z0-9]+/, '').charAt(0).toUpperCase() || '#';
  }

  window.Thread = Thread;
  window.Thread.initial = initial;
})();
