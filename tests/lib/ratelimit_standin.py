#!/usr/bin/env python3
"""A stand-in ACME CA that rate-limits every account request: newAccount
answers 429 with a rateLimited problem and Retry-After. Each request is
logged (method path) to LOG so a test can count how often it was asked.

    ratelimit_standin.py ADDR PORT RETRY_AFTER LOG
"""
import json
import sys

from acme_standin import JsonHandler, directory, serve

ADDR, PORT, RETRY, LOG = sys.argv[1:5]
BASE = f"http://{ADDR}:{PORT}"


class Handler(JsonHandler):
    nonces = True

    def note(self):
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path}\n")

    def do_HEAD(self):
        self.note()
        self.reply(200)

    def do_GET(self):
        self.note()
        if self.path == "/dir":
            return self.reply(200, directory(BASE))
        self.malformed()

    def do_POST(self):
        self.note()
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n))
        assert set(body) == {"protected", "payload", "signature"}
        self.reply(429, {"type": "urn:ietf:params:acme:error:rateLimited",
                         "detail": "too many new registrations from this address",
                         "status": 429},
                   "application/problem+json", [("Retry-After", RETRY)])


serve(ADDR, PORT, Handler)
