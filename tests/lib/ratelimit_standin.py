#!/usr/bin/env python3
"""A stand-in ACME CA that rate-limits every account request: newAccount
answers 429 with a rateLimited problem and Retry-After. Each request is
logged (method path) to LOG so a test can count how often it was asked.

    ratelimit_standin.py ADDR PORT RETRY_AFTER LOG
"""
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADDR, PORT, RETRY, LOG = sys.argv[1:5]
BASE = f"http://{ADDR}:{PORT}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, obj=None, ctype="application/json", extra=()):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Replay-Nonce", secrets.token_urlsafe(16))
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def note(self):
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path}\n")

    def do_HEAD(self):
        self.note()
        self.send(200)

    def do_GET(self):
        self.note()
        if self.path == "/dir":
            return self.send(200, {"newNonce": BASE + "/nonce", "newAccount": BASE + "/acct",
                                   "newOrder": BASE + "/order"})
        self.send(404, {"type": "urn:ietf:params:acme:error:malformed"})

    def do_POST(self):
        self.note()
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n))
        assert set(body) == {"protected", "payload", "signature"}
        self.send(429, {"type": "urn:ietf:params:acme:error:rateLimited",
                        "detail": "too many new registrations from this address",
                        "status": 429},
                  "application/problem+json", [("Retry-After", RETRY)])


ThreadingHTTPServer((ADDR, int(PORT)), Handler).serve_forever()
