#!/usr/bin/env python3
"""recv_http.py - a local HTTP receiver for the notification and recovery tests.

Listens on 127.0.0.1 (port 0 unless --port), writes its port to PORTFILE, and appends one
JSON line per request to LOG: {"t", "method", "path", "headers", "body"}. What it answers
depends on the path:

  /ok, anything else     200 "ok"
  /status/NNN            NNN
  /flaky/N/NAME          503 for the first N requests to this path, then 200
  /429                   429 with Retry-After: 7
  /429date               429 with Retry-After as an HTTP date 30 s ahead
  /503ra                 503 with Retry-After: 99999 (clamped by the client)
  /410                   410 Gone
  /garbage               bytes that are not HTTP, then close
  /redirect              302 to itself (a loop)
  /big                   200 with a 10 MB body
  /drip                  200, then one byte every 200 ms for a minute
  /hang                  reads the request and never answers (a minute)
  /pd                    202 {"status":"success"} (PagerDuty)
  /slow50                200 after 50 ms
"""
import email.utils
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        rec = {
            "t": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with LOCK:
            with open(self.server.log, "a") as f:
                f.write(json.dumps(rec) + "\n")

    def answer(self, status, body=b"ok", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.record(body)
        p = self.path.split("?")[0]
        parts = p.strip("/").split("/")
        try:
            if parts[0] == "status":
                self.answer(int(parts[1]), b"status " + parts[1].encode())
            elif parts[0] == "flaky":
                with LOCK:
                    COUNTS[p] = COUNTS.get(p, 0) + 1
                    c = COUNTS[p]
                if c <= int(parts[1]):
                    self.answer(503, b"unavailable", [("Retry-After", "1")])
                else:
                    self.answer(200)
            elif p == "/429":
                self.answer(429, b"slow down", [("Retry-After", "7")])
            elif p == "/429date":
                when = email.utils.formatdate(time.time() + 30, usegmt=True)
                self.answer(429, b"slow down", [("Retry-After", when)])
            elif p == "/503ra":
                self.answer(503, b"down", [("Retry-After", "99999")])
            elif p == "/410":
                self.answer(410, b"gone")
            elif p == "/garbage":
                self.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
                self.wfile.flush()
                self.close_connection = True
            elif p == "/redirect":
                self.answer(302, b"", [("Location", "/redirect")])
            elif p == "/big":
                size = 10 * 1024 * 1024
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = b"x" * 65536
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            elif p == "/drip":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(300):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif p == "/hang":
                time.sleep(60)
            elif p == "/pd":
                self.answer(202, b'{"status":"success","message":"Event processed"}')
            elif p == "/slow50":
                time.sleep(0.05)
                self.answer(200)
            else:
                self.answer(200)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def exit_with_parent():
    """Exit when the process that started us is gone (a test that failed or was killed
    must not leave a server behind), and after 15 minutes at most."""
    import os, threading
    parent, start = os.getppid(), time.time()

    def watch():
        while os.getppid() == parent and time.time() - start < 900:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: recv_http.py PORTFILE LOG [--port N]")
    port = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--port" else 0
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.log = sys.argv[2]
    open(srv.log, "a").close()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    exit_with_parent()
    srv.serve_forever()


if __name__ == "__main__":
    main()
