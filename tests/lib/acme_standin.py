"""What the stand-in ACME servers (ari_standin.py, ratelimit_standin.py)
share: a quiet HTTP/1.1 handler that answers JSON, and the directory
document. Each stand-in is a script of its own that imports this."""
import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    nonces = False      # True: every answer carries a fresh Replay-Nonce

    def log_message(self, *a):
        pass

    def reply(self, status, obj=None, ctype="application/json", extra=()):
        """`obj` as JSON (no body for None) with `status` and the
        (name, value) headers in `extra`."""
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        if self.nonces:
            self.send_header("Replay-Nonce", secrets.token_urlsafe(16))
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def malformed(self):
        self.reply(404, {"type": "urn:ietf:params:acme:error:malformed"})


def directory(base, **more):
    """The ACME directory of a server at `base`, with `more` entries."""
    return {"newNonce": base + "/nonce", "newAccount": base + "/acct",
            "newOrder": base + "/order", **more}


def serve(addr, port, handler):
    ThreadingHTTPServer((addr, int(port)), handler).serve_forever()
