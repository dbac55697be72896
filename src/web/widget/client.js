// Talking to Palaver's visitor API: JSON calls with the site key and the visitor's token, and the
// live stream (Server-Sent Events read through fetch, so that the token travels in a header and
// reconnections carry Last-Event-ID and back off).

function Client(base, siteKey) {
  this.base = base + '/api/v1/visitor';
  this.siteKey = siteKey;
  this.token = null;
}

// A failed call: `retry` when trying again later may work (network, 5xx, 429, 408).
function CallError(status, detail, retryAfter) {
  this.status = status;
  this.detail = detail;
  this.retry = status === 0 || status === 408 || status === 429 || status >= 500;
  this.retryAfter = retryAfter;
}

Client.prototype.headers = function (extra) {
  var h = { 'X-Site-Key': this.siteKey };
  if (this.token) h.Authorization = 'Bearer ' + this.token;
  for (var k in extra) h[k] = extra[k];
  return h;
};

// Resolves with the answer's JSON; rejects with a CallError.
Client.prototype.call = function (method, path, body, idempotencyKey) {
  var headers = this.headers(body ? { 'Content-Type': 'application/json' } : {});
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  return window
    .fetch(this.base + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      credentials: 'omit',
    })
    .then(
      function (res) {
        return res.text().then(function (text) {
          var json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch (e) {
            json = null;
          }
          if (res.ok) return json;
          var seconds = parseInt(res.headers.get('Retry-After') || '', 10);
          throw new CallError(res.status, (json && json.detail) || res.statusText, seconds);
        });
      },
      function () {
        throw new CallError(0, 'offline');
      }
    );
};

// The live stream of one conversation. `on.event(name, data, id)` for each event,
// `on.fatal(status)` when the server refuses the stream for good (token or conversation gone).
function Stream(client, conversationId, on) {
  this.client = client;
  this.url = client.base + '/conversations/' + encodeURIComponent(conversationId) + '/events';
  this.on = on;
  this.lastId = null;
  this.failures = 0;
  this.stopped = false;
  this.abort = null;
  this.timer = null;
  this.wait = 0;
}

// A stream silent this long is dead (the server comments every 15 s).
var STREAM_SILENCE_MS = 45000;

Stream.prototype.start = function () {
  var self = this;
  if (self.stopped || self.abort) return;
  clearTimeout(self.timer);
  var ctrl = new AbortController();
  self.abort = ctrl;
  var extra = { Accept: 'text/event-stream' };
  if (self.lastId) extra['Last-Event-ID'] = self.lastId;
  var watchdog = null;
  var alive = function () {
    clearTimeout(watchdog);
    watchdog = setTimeout(function () {
      ctrl.abort();
    }, STREAM_SILENCE_MS);
  };
  alive();
  window
    .fetch(self.url, { headers: self.client.headers(extra), signal: ctrl.signal, cache: 'no-store', credentials: 'omit' })
    .then(function (res) {
      if (res.status === 401 || res.status === 403 || res.status === 404) {
        self.stopped = true;
        self.on.fatal(res.status);
        return;
      }
      // Rate limited: come back when the server says, not sooner.
      if (res.status === 429) self.wait = parseInt(res.headers.get('Retry-After') || '', 10) * 1000 || 0;
      if (!res.ok || !res.body) throw new Error('stream refused: ' + res.status);
      self.on.connected(true);
      return self.read(res.body.getReader(), alive);
    })
    .catch(function () {})
    .then(function () {
      clearTimeout(watchdog);
      if (self.abort === ctrl) self.abort = null;
      if (!self.stopped) self.later();
    });
};

// Reads events until the stream ends; a successful read resets the back-off.
Stream.prototype.read = function (reader, alive) {
  var self = this;
  var decoder = new TextDecoder();
  var buffer = '';
  var ev = { name: 'message', data: [], id: null };
  var line = function (l) {
    if (l === '') {
      if (ev.data.length) self.dispatch(ev);
      ev = { name: 'message', data: [], id: null };
      return;
    }
    if (l.charAt(0) === ':') return;
    var colon = l.indexOf(':');
    var field = colon < 0 ? l : l.slice(0, colon);
    var value = colon < 0 ? '' : l.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') ev.name = value;
    else if (field === 'data') ev.data.push(value);
    else if (field === 'id') ev.id = value;
  };
  var pump = function () {
    return reader.read().then(function (r) {
      if (r.done) return;
      alive();
      self.failures = 0;
      buffer += decoder.decode(r.value, { stream: true });
      var parts = buffer.split(/\r\n|\r|\n/);
      buffer = parts.pop();
      parts.forEach(line);
      return pump();
    });
  };
  return pump();
};

Stream.prototype.dispatch = function (ev) {
  if (ev.id) this.lastId = ev.id;
  var data = null;
  try {
    data = JSON.parse(ev.data.join('\n'));
  } catch (e) {
    return;
  }
  this.on.event(ev.name, data);
};

// Reconnects after 1, 2, 4 … 30 s, with jitter so that a server restart is not stampeded; after
// a 429, once its Retry-After has passed.
Stream.prototype.later = function () {
  var self = this;
  self.on.connected(false);
  var delay = Math.min(30000, 1000 * Math.pow(2, self.failures)) * (0.75 + Math.random() * 0.5);
  delay = Math.max(delay, self.wait);
  self.wait = 0;
  self.failures = Math.min(self.failures + 1, 6);
  clearTimeout(self.timer);
  self.timer = setTimeout(function () {
    self.start();
  }, delay);
};

// Now, without waiting for the back-off (the browser says the network is back).
Stream.prototype.now = function () {
  if (this.stopped || this.abort) return;
  this.failures = 0;
  this.start();
};

Stream.prototype.stop = function () {
  this.stopped = true;
  clearTimeout(this.timer);
  if (this.abort) this.abort.abort();
};
