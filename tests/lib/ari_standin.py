#!/usr/bin/env python3
"""A stand-in ACME directory whose only real feature is ARI (RFC 9773):
/dir advertises renewalInfo; GET /renewal-info/<certID> answers with the
window stored in WINDOW_FILE ({"start": ..., "end": ..., "retry_after": N})
and logs each certID asked for to LOG.

    ari_standin.py ADDR PORT WINDOW_FILE LOG
"""
import json
import sys

from acme_standin import JsonHandler, directory, serve

ADDR, PORT, WINDOW, LOG = sys.argv[1:5]
BASE = f"http://{ADDR}:{PORT}"


class Handler(JsonHandler):
    def do_GET(self):
        if self.path == "/dir":
            return self.reply(200, directory(BASE, renewalInfo=BASE + "/renewal-info"))
        if self.path.startswith("/renewal-info/"):
            cid = self.path[len("/renewal-info/"):]
            with open(LOG, "a") as f:
                f.write(cid + "\n")
            with open(WINDOW) as f:
                w = json.load(f)
            return self.reply(200, {"suggestedWindow": {"start": w["start"],
                                                        "end": w["end"]}},
                              extra=[("Retry-After", str(w.get("retry_after", 21600)))])
        self.malformed()


serve(ADDR, PORT, Handler)
