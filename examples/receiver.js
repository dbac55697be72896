// A Palaver webhook receiver in Node.js, standard library only (http, crypto).
//
//     WEBHOOK_SECRET=whsec_... PORT=3000 node examples/receiver.js
//
// It checks each delivery's Standard Webhooks signature (webhook-id, webhook-timestamp,
// webhook-signature) with the webhook's secret, refuses timestamps more than 5 minutes away,
// handles each webhook-id once, and answers 200 quickly. WEBHOOK_SECRET may hold several
// secrets, comma-separated (during a rotation, the old and the new). PORT=0 picks a free port;
// the first line on stdout says which. See docs/receiving-webhooks.md.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const TOLERANCE_SECONDS = 5 * 60;
const MAX_BODY = 64 * 1024 * 1024;

function secretKeys(value) {
  return value.split(',').map((secret) => {
    secret = secret.trim();
    if (!secret.startsWith('whsec_') || secret.length === 'whsec_'.length) {
      console.error('WEBHOOK_SECRET: each secret starts with whsec_, as Palaver gave it');
      process.exit(1);
    }
    return Buffer.from(secret.slice('whsec_'.length), 'base64');
  });
}

const keys = secretKeys(process.env.WEBHOOK_SECRET || '');
// The webhook-ids handled so far. A real receiver keeps them in its database, for longer than
// Palaver retries (about 28 hours), and records each in the same transaction as its effects.
const seen = new Set();

class Rejected extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

// The delivery's webhook-id if it is genuine and fresh; throws Rejected otherwise.
function verify(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) {
    throw new Rejected(400, 'missing webhook-id, webhook-timestamp or webhook-signature');
  }
  if (!/^[0-9]+$/.test(timestamp)) throw new Rejected(400, 'webhook-timestamp is not unix seconds');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new Rejected(401, 'webhook-timestamp is more than 5 minutes away from our clock');
  }
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  const expected = keys.map((k) =>
    Buffer.from(crypto.createHmac('sha256', k).update(signed).digest('base64')));
  // Space-separated `v1,<base64>` signatures: one per secret while the webhook's is rotated.
  for (const signature of signatures.split(' ')) {
    const comma = signature.indexOf(',');
    if (comma < 0 || signature.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(signature.slice(comma + 1));
    if (expected.some((e) => e.length === given.length && crypto.timingSafeEqual(e, given))) {
      return id;
    }
  }
  throw new Rejected(401, 'no signature matches our secret');
}

// Your work goes here. Keep it short: Palaver waits at most 15 s for the answer.
function handle(id, events) {
  console.log(`accepted ${id} ${events.map((e) => e.event).join(',')}`);
}

function answer(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text + '\n');
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') return answer(res, 405, 'POST only');
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      answer(res, 413, 'too large');
      req.destroy();
    } else {
      chunks.push(chunk);
    }
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let id;
    try {
      id = verify(req.headers, body);
    } catch (e) {
      if (!(e instanceof Rejected)) throw e;
      console.log(`rejected ${e.status} ${e.message}`);
      return answer(res, e.status, e.message);
    }
    if (seen.has(id)) {
      console.log(`duplicate ${id}`);
      return answer(res, 200, 'already handled');
    }
    handle(id, JSON.parse(body));
    seen.add(id);
    answer(res, 200, 'ok');
  });
});

server.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
