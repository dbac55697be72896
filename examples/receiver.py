#!/usr/bin/env python3
"""A Palaver webhook receiver in Python, standard library only.

    WEBHOOK_SECRET=whsec_... PORT=3000 python3 examples/receiver.py

It checks each delivery's Standard Webhooks signature (webhook-id, webhook-timestamp,
webhook-signature) with the webhook's secret, refuses timestamps more than 5 minutes away,
handles each webhook-id once, and answers 200 quickly. WEBHOOK_SECRET may hold several secrets,
comma-separated (during a rotation, the old and the new). PORT=0 picks a free port; the first
line on stdout says which. See docs/receiving-webhooks.md.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 64 * 1024 * 1024


def secret_keys(value):
    """The key bytes of each `whsec_` secret of a comma-separated list."""
    keys = []
    for secret in value.split(","):
        secret = secret.strip()
        if not secret.startswith("whsec_"):
            sys.exit("WEBHOOK_SECRET: each secret starts with whsec_, as Palaver gave it")
        try:
            keys.append(base64.b64decode(secret[len("whsec_"):], validate=True))
        except binascii.Error:
            sys.exit("WEBHOOK_SECRET: the part after whsec_ is not base64")
    return keys


KEYS = secret_keys(os.environ.get("WEBHOOK_SECRET", ""))
# The webhook-ids handled so far. A real receiver keeps them in its database, for longer than
# Palaver retries (about 28 hours), and records each in the same transaction as its effects.
SEEN = set()
SEEN_LOCK = threading.Lock()


class Rejected(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify(headers, body):
    """The delivery's webhook-id if it is genuine and fresh; raises Rejected otherwise."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise Rejected(400, "missing webhook-id, webhook-timestamp or webhook-signature")
    if not timestamp.isdigit():
        raise Rejected(400, "webhook-timestamp is not unix seconds")
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        raise Rejected(401, "webhook-timestamp is more than 5 minutes away from our clock")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = [base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()) for k in KEYS]
    # Space-separated `v1,<base64>` signatures: one per secret while the webhook's is rotated.
    for signature in signatures.split(" "):
        version, _, value = signature.partition(",")
        if version != "v1":
            continue
        if any(hmac.compare_digest(value.encode(), e) for e in expected):
            return msg_id
    raise Rejected(401, "no signature matches our secret")


def handle(msg_id, events):
    """Your work goes here. Keep it short: Palaver waits at most 15 s for the answer."""
    names = ",".join(e["event"] for e in events)
    print(f"accepted {msg_id} {names}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.answer(413, "too large")
        body = self.rfile.read(length)
        try:
            msg_id = verify(self.headers, body)
        except Rejected as r:
            print(f"rejected {r.status} {r.reason}", flush=True)
            return self.answer(r.status, r.reason)
        with SEEN_LOCK:
            if msg_id in SEEN:
                print(f"duplicate {msg_id}", flush=True)
                return self.answer(200, "already handled")
            handle(msg_id, json.loads(body))
            SEEN.add(msg_id)
        self.answer(200, "ok")

    def answer(self, status, text):
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "3000"))), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
