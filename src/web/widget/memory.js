// What the widget remembers for one site, in the page's localStorage under `palaver:<siteKey>`:
// the visitor's token, the current conversation, what the visitor told us about themselves, how
// far they have read, and the outbox — the calls not yet answered, each with its
// Idempotency-Key, so that a reload or a lost answer never sends anything twice.

function Memory(siteKey) {
  this.key = 'palaver:' + siteKey;
  this.data = this.read();
}

Memory.prototype.read = function () {
  var d = null;
  try {
    d = JSON.parse(window.localStorage.getItem(this.key) || 'null');
  } catch (e) {
    d = null;
  }
  if (!d || typeof d !== 'object') d = {};
  if (!Array.isArray(d.outbox)) d.outbox = [];
  if (!d.identity || typeof d.identity !== 'object') d.identity = {};
  return d;
};

// Storage may be full or refused (private windows): the widget then works for this page only.
Memory.prototype.save = function () {
  try {
    window.localStorage.setItem(this.key, JSON.stringify(this.data));
  } catch (e) {
    /* kept in memory */
  }
};

// Another tab of the same site changed what we remember.
Memory.prototype.reload = function () {
  this.data = this.read();
};

Memory.prototype.forgetConversation = function () {
  delete this.data.conversationId;
  delete this.data.status;
  this.save();
};

Memory.prototype.push = function (op) {
  op.key = newKey();
  this.data.outbox.push(op);
  this.save();
  return op;
};

Memory.prototype.drop = function (op) {
  this.data.outbox = this.data.outbox.filter(function (o) {
    return o.key !== op.key;
  });
  this.save();
};

// 128 random bits as hex: an Idempotency-Key (crypto.randomUUID needs a secure context).
function newKey() {
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  var s = '';
  for (var i = 0; i < bytes.length; i++) s += (bytes[i] + 256).toString(16).slice(1);
  return s;
}
