// The widget on the page: a host element with an open shadow root (the page's CSS cannot reach
// in, ours cannot leak out), the bubble, and the panel with its transcript and composer.
// It draws what the controller tells it and reports what the visitor does through `on`.

function View(settings, on) {
  this.settings = settings;
  this.on = on;
  this.byKey = {};
  this.byId = {};
}

View.prototype.mount = function () {
  var host = el('div', { id: 'palaver-widget' });
  // Inline and !important: nothing the page says about its own elements can move or size ours.
  var props = { all: 'initial', position: 'fixed', 'z-index': '2147483000', top: '0', left: '0', width: '0', height: '0', display: 'block', overflow: 'visible' };
  for (var k in props) host.style.setProperty(k, props[k], 'important');
  var root = host.attachShadow({ mode: 'open' });
  if (root.adoptedStyleSheets && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(PALAVER_CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el('style', { text: PALAVER_CSS }));
  }
  root.appendChild(this.build());
  document.body.appendChild(host);
  this.host = host;
};

View.prototype.build = function () {
  var s = this.settings;
  var self = this;
  var accent = /^#[0-9a-f]{3,6}$/i.test(s.color || '') ? s.color : '#4f46e5';
  this.root = el('div', { class: 'pv-root pv-' + (s.position === 'left' ? 'left' : 'right'), 'data-open': 'false' });
  this.root.style.setProperty('--pv-accent', accent);
  this.root.style.setProperty('--pv-on-accent', readableOn(accent));

  this.subtitle = el('p', { class: 'pv-subtitle', 'data-part': 'subtitle', text: 'Ask us anything, we reply right here.' });
  this.faces = el('div', { class: 'pv-faces' }, [teamAvatar()]);
  var close = el('button', { class: 'pv-close', type: 'button', 'aria-label': 'Close chat', 'data-part': 'close' }, [icon('down')]);
  close.addEventListener('click', function () {
    self.on.toggle(false);
  });
  var header = el('header', { class: 'pv-header' }, [
    this.faces,
    el('div', { class: 'pv-heading' }, [el('h2', { class: 'pv-title', id: 'pv-title', text: s.title || 'Chat with us' }), this.subtitle]),
    close,
  ]);
  this.offline = el('div', { class: 'pv-offline', 'data-part': 'offline', role: 'status', hidden: true }, [
    icon('offline'),
    el('span', { text: 'You are offline. Messages will be sent when the connection is back.' }),
  ]);
  this.transcript = el('div', { class: 'pv-transcript', 'data-part': 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation', tabindex: '0' });
  this.intro = this.buildIntro();
  this.restart = el('button', { class: 'pv-restart', type: 'button', 'data-part': 'restart', text: 'Start a new conversation' });
  this.restart.addEventListener('click', function () {
    self.on.restart();
  });
  this.ended = el('div', { class: 'pv-ended', hidden: true }, [this.restart]);
  this.composer = this.buildComposer();
  this.panel = el('section', { class: 'pv-panel', 'data-part': 'panel', role: 'dialog', 'aria-labelledby': 'pv-title', hidden: true }, [
    header,
    this.offline,
    this.transcript,
    this.intro,
    this.ended,
    this.composer,
    el('div', { class: 'pv-brand', text: 'Chat by Palaver' }),
  ]);
  this.panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') self.on.toggle(false);
  });
  this.unread = el('span', { class: 'pv-unread', 'data-part': 'unread', hidden: true, 'aria-hidden': 'true', text: '0' });
  this.bubble = el('button', { class: 'pv-bubble', type: 'button', 'data-part': 'bubble', 'aria-label': 'Open chat', 'aria-expanded': 'false' }, [
    el('span', { class: 'pv-bubble-open' }, [icon('chat')]),
    el('span', { class: 'pv-bubble-close' }, [icon('close')]),
    this.unread,
  ]);
  this.bubble.addEventListener('click', function () {
    self.on.toggle();
  });
  this.root.appendChild(this.panel);
  this.root.appendChild(this.bubble);
  this.greet();
  return this.root;
};

View.prototype.buildIntro = function () {
  var self = this;
  this.name = el('input', { type: 'text', 'data-part': 'name', 'aria-label': 'Your name', placeholder: 'Name (optional)', autocomplete: 'name', maxlength: '100' });
  this.email = el('input', { type: 'email', 'data-part': 'email', 'aria-label': 'Your email', placeholder: 'Email (optional)', autocomplete: 'email', maxlength: '254' });
  this.emailError = el('p', { class: 'pv-field-error', role: 'alert', hidden: true, text: 'That email address does not look right.' });
  [this.name, this.email].forEach(function (input) {
    input.addEventListener('input', function () {
      self.emailError.hidden = true;
      self.email.removeAttribute('aria-invalid');
      self.on.identity(self.name.value, self.email.value);
    });
  });
  return el('div', { class: 'pv-intro', 'data-part': 'intro' }, [
    el('p', { class: 'pv-intro-lead', text: 'Leave your email and we can answer you even after you leave this page.' }),
    el('div', { class: 'pv-fields' }, [this.name, this.email]),
    this.emailError,
  ]);
};

View.prototype.buildComposer = function () {
  var self = this;
  this.input = el('textarea', { 'data-part': 'input', 'aria-label': 'Write a message', placeholder: 'Write a message…', rows: '1', maxlength: '10000' });
  this.send = el('button', { class: 'pv-send', type: 'submit', 'data-part': 'send', 'aria-label': 'Send', disabled: true }, [icon('send')]);
  this.error = el('p', { class: 'pv-error', role: 'alert', hidden: true });
  var form = el('form', { class: 'pv-composer', 'data-part': 'composer' }, [this.input, this.send]);
  var fit = function () {
    self.input.style.height = 'auto';
    self.input.style.height = Math.min(self.input.scrollHeight, 120) + 'px';
    self.send.disabled = !self.input.value.trim();
  };
  this.input.addEventListener('input', fit);
  this.input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  var submit = function () {
    var text = self.input.value;
    if (!text.trim()) return;
    if (self.on.send(text) !== false) {
      self.input.value = '';
      fit();
    }
  };
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    submit();
  });
  return el('div', { class: 'pv-compose-wrap' }, [this.error, form]);
};

View.prototype.greet = function () {
  var s = this.settings;
  if (!s.greeting) return;
  this.transcript.appendChild(
    el('div', { class: 'pv-msg pv-agent pv-greeting', 'data-part': 'greeting' }, [
      teamAvatar(),
      el('div', { class: 'pv-body' }, [el('div', { class: 'pv-text', text: s.greeting })]),
    ])
  );
};
