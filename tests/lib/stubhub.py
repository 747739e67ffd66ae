#!/usr/bin/python3
"""stubhub - stands in for the hub's agent endpoints until the hub exists.

    stubhub.py join ADDR PORT CERT KEY TOKEN ANSWER_JSON LOG
        HTTPS; POST /api/v1/agents/join with TOKEN (once) -> ANSWER_JSON,
        anything else -> the admin API's error body. Requests go to LOG.
    stubhub.py heartbeat ADDR PORT LOG
        plain HTTP (inside the tunnel); POST /api/v1/agent/heartbeat ->
        {"version":1,"interval":N}; each body is a line in LOG.
Written from agent_proto.h, independently of the C side."""
import http.server
import json
import socket
import ssl
import sys


class Server(http.server.ThreadingHTTPServer):
    def __init__(self, addr, handler):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, handler)


def make_handler(mode, args):
    used = set()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            with open(args["log"], "a") as f:
                f.write(json.dumps({"path": self.path, "body": raw.decode("latin-1"),
                                    "peer": self.client_address[0]}) + "\n")
            if mode == "heartbeat":
                if self.path != "/api/v1/agent/heartbeat":
                    return self.reply(404, {"error": {"code": "not_found", "message": "no"}})
                return self.reply(200, {"version": 1, "interval": args["interval"]})
            if self.path != "/api/v1/agents/join":
                return self.reply(404, {"error": {"code": "not_found", "message": "no such path"}})
            req = json.loads(raw)
            tok = req.get("token")
            if tok in used:
                return self.reply(403, {"error": {"code": "token_used",
                                                  "message": "this join token was used already"}})
            if tok != args["token"]:
                return self.reply(403, {"error": {"code": "token_unknown",
                                                  "message": "unknown join token"}})
            used.add(tok)
            with open(args["answer"]) as f:
                self.reply(200, json.load(f))
    return H


def main():
    mode = sys.argv[1]
    if mode == "join":
        addr, port, cert, key, token, answer, log = sys.argv[2:9]
        args = {"token": token, "answer": answer, "log": log}
    else:
        addr, port, log = sys.argv[2:5]
        args = {"log": log, "interval": int(sys.argv[5]) if len(sys.argv) > 5 else 5}
    srv = Server((addr, int(port)), make_handler(mode, args))
    if mode == "join":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
