#!/usr/bin/env python3
"""A webhook receiver for Privet's end-to-end tests, independent of Privet's code: the
Python standard library's HTTP server, and the Standard Webhooks signature checked with
its `hmac` and `base64` modules.

Usage: receiver.py PORT LOG_FILE, with WEBHOOK_SECRET=whsec_... and optionally
RECEIVER_STATUS (default 204), the status every delivery is answered with.

Each POST is appended to LOG_FILE as one JSON line: its `webhook-id`, `webhook-timestamp`,
whether `webhook-signature` verifies, the status answered, and the body as parsed JSON.
Prints "ready" once listening.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(sys.argv[1])
LOG = sys.argv[2]
SECRET = os.environ["WEBHOOK_SECRET"]
STATUS = int(os.environ.get("RECEIVER_STATUS", "204"))
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))


def verifies(msg_id, timestamp, body, header):
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    for part in header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        msg_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        signature = self.headers.get("webhook-signature", "")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        entry = {
            "id": msg_id,
            "timestamp": timestamp,
            "valid": verifies(msg_id, timestamp, body, signature),
            "status": STATUS,
            "content_type": self.headers.get("content-type", ""),
            "body": parsed,
        }
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
        self.send_response(STATUS)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", PORT), Handler)
print("ready", flush=True)
server.serve_forever()
