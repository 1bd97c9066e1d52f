#!/usr/bin/env python3
"""A misbehaving JSON-RPC node for tests/integration/test_chain_bad.sh.

Listens on 127.0.0.1 (port given, 0 = pick one and print it). eth_chainId is
answered correctly (0x7a69) except under /chain1; every other call is
answered according to the URL path: garbage, html502, huge, hang, trickle,
wrongid, deep, error, chain1.  Each request's method goes to stderr.
"""
import http.server
import json
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n))
        rid, method, mode = req["id"], req["method"], self.path.strip("/")
        print(method, file=sys.stderr, flush=True)  # what was asked, in order
        ok = lambda res: json.dumps({"jsonrpc": "2.0", "id": rid, "result": res}).encode()
        if method == "eth_chainId":
            self.send(200, ok("0x1" if mode == "chain1" else "0x7a69"))
            return
        if mode == "garbage":
            self.send(200, b"this is not json at all")
        elif mode == "html502":
            self.send(502, b"<html>502 Bad Gateway</html>", "text/html")
        elif mode == "huge":
            self.send(200, b"[" + b"1," * (10 * 1024 * 1024) + b"1]")
        elif mode == "hang":
            time.sleep(30)
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.3)
        elif mode == "wrongid":
            self.send(200, json.dumps({"jsonrpc": "2.0", "id": rid + 1000, "result": "0x1"}).encode())
        elif mode == "deep":
            self.send(200, b"[" * 200000 + b"]" * 200000)
        elif mode == "error":
            self.send(200, json.dumps({"jsonrpc": "2.0", "id": rid,
                                       "error": {"code": -32601, "message": "method not found"}}).encode())
        else:
            self.send(404, b"no such mode", "text/plain")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
