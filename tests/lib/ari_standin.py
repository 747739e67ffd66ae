#!/usr/bin/env python3
"""A stand-in ACME directory whose only real feature is ARI (RFC 9773):
/dir advertises renewalInfo; GET /renewal-info/<certID> answers with the
window stored in WINDOW_FILE ({"start": ..., "end": ..., "retry_after": N})
and logs each certID asked for to LOG.

    ari_standin.py ADDR PORT WINDOW_FILE LOG
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADDR, PORT, WINDOW, LOG = sys.argv[1:5]
BASE = f"http://{ADDR}:{PORT}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj, extra=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/dir":
            return self.reply(200, {"newNonce": BASE + "/nonce",
                                    "newAccount": BASE + "/acct",
                                    "newOrder": BASE + "/order",
                                    "renewalInfo": BASE + "/renewal-info"})
        if self.path.startswith("/renewal-info/"):
            cid = self.path[len("/renewal-info/"):]
            with open(LOG, "a") as f:
                f.write(cid + "\n")
            with open(WINDOW) as f:
                w = json.load(f)
            return self.reply(200, {"suggestedWindow": {"start": w["start"],
                                                        "end": w["end"]}},
                              [("Retry-After", str(w.get("retry_after", 21600)))])
        self.reply(404, {"type": "urn:ietf:params:acme:error:malformed"})


ThreadingHTTPServer((ADDR, int(PORT)), Handler).serve_forever()
