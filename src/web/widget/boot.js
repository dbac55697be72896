// The page-facing side: `window.palaver`, a command queue (calls made before the script loaded
// are kept in `palaver.q` by the snippet and run once the widget is ready), and the start-up:
// find our script tag, read the site's settings, draw the bubble.

Widget.prototype.toggle = function (open) {
  var d = this.memory.data;
  open = open === undefined ? !this.opened : !!open;
  if (open === this.opened) return;
  this.opened = open;
  d.open = open;
  if (open) {
    d.unread = 0;
    if (this.newest && this.newest > (d.seenUntil || '')) d.seenUntil = this.newest;
    this.view.unreadCount(0);
    this.emit('unread', 0);
  }
  this.memory.save();
  this.view.open(open);
  this.view.unreadCount(d.unread || 0);
  this.emit(open ? 'open' : 'close');
  if (!open) this.view.bubble.focus({ preventScroll: true });
};

Widget.prototype.emit = function (name, value) {
  (this.listeners[name] || []).forEach(function (fn) {
    try {
      fn(value);
    } catch (e) {
      if (window.console) console.error(e);
    }
  });
};

// The commands of `palaver(name, …args)`. Later ones (init, sendMessage, reset) join this table.
var COMMANDS = {
  open: function (w) {
    w.toggle(true);
  },
  close: function (w) {
    w.toggle(false);
  },
  toggle: function (w) {
    w.toggle();
  },
  show: function (w) {
    w.view.show(true);
  },
  hide: function (w) {
    w.toggle(false);
    w.view.show(false);
  },
  // {name, email, phone}: used when the conversation starts; a new email is sent at once.
  identify: function (w, who) {
    var id = w.memory.data.identity;
    ['name', 'email', 'phone'].forEach(function (k) {
      if (who && typeof who[k] === 'string') id[k] = who[k];
    });
    w.memory.save();
    w.view.identity(id);
    if (who && who.email && w.memory.data.conversationId) {
      w.memory.push({ kind: 'email', email: who.email });
      w.pump();
    }
  },
  // on('open' | 'close' | 'unread' | 'message', callback)
  on: function (w, name, fn) {
    if (typeof fn === 'function') (w.listeners[name] = w.listeners[name] || []).push(fn);
  },
};

function boot() {
  var script = document.currentScript || document.querySelector('script[data-site-key][src*="widget.js"]');
  var previous = window.palaver;
  if (previous && previous.loaded) return; // the snippet is on the page twice
  var early = [].slice.call((previous && previous.q) || []);
  var widget = null;
  var palaver = function () {
    var args = [].slice.call(arguments);
    if (!widget) return void early.push(args);
    var run = COMMANDS[args[0]];
    if (!run) return void console.warn('Palaver: unknown command ' + JSON.stringify(args[0]));
    run.apply(null, [widget].concat(args.slice(1)));
  };
  palaver.loaded = true;
  window.palaver = palaver;
  var siteKey = script && script.getAttribute('data-site-key');
  if (!siteKey) return void console.warn('Palaver: add data-site-key="…" to the widget\'s script tag');
  var client = new Client(new URL(script.src, window.location.href).origin, siteKey);
  var attempt = 0;
  var load = function () {
    client.call('GET', '/widget').then(
      function (settings) {
        ready(function () {
          widget = new Widget(client, new Memory(siteKey), settings || {});
          widget.start();
          early.splice(0).forEach(function (args) {
            palaver.apply(null, args);
          });
        });
      },
      function (err) {
        if (!err.retry) return void console.warn('Palaver: the chat is not available here: ' + err.detail);
        var backoff = Math.min(60000, 1000 * Math.pow(2, attempt++));
        setTimeout(load, err.retryAfter > 0 ? err.retryAfter * 1000 : backoff);
      }
    );
  };
  load();
}

function ready(fn) {
  if (document.body) fn();
  else document.addEventListener('DOMContentLoaded', fn);
}

boot();
