#!/usr/bin/env python3
"""receiver.py - a webhook receiver for the fault suite's notification scenarios.

usage: receiver.py PORTFILE LOG [--port N]

Listens on 127.0.0.1 (port 0, or N to come back on the port of an earlier run), writes its
port to PORTFILE, and appends one JSON line per request to LOG as soon as the request is
read, before answering: {"t": unix seconds, "path", "id": webhook-id, "code": the status
it answers, "data": the body's "data"}. The path's first parts say how it answers (NAME only tells receivers apart):

  /ok/NAME           200
  /slow/NAME/S/M     the first request of each of the first M webhook-ids: 200 after S
                     seconds; every other request: 200 at once
  /drip/NAME/M       the first request of each of the first M webhook-ids: 200 and a
                     1000-byte body, one byte every 200 ms; every other request: 200 at once
  /ra/NAME/N/K       the first K requests of each webhook-id: 429 with Retry-After: N; then 200

It exits when the process that started it is gone, and after 15 minutes at most.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = {}
KEYS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"ok", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            data = json.loads(raw).get("data")
        except Exception:
            data = None
        wid = self.headers.get("webhook-id")
        parts = self.path.split("?")[0].strip("/").split("/")
        with LOCK:
            k = (self.path, wid)
            SEEN[k] = SEEN.get(k, 0) + 1
            nth = SEEN[k]
            keys = KEYS.setdefault(self.path, [])
            if nth == 1:
                keys.append(wid)
            rank = keys.index(wid) + 1 if wid in keys else 0
            code = 429 if parts[0] == "ra" and nth <= int(parts[3]) else 200
            with open(self.server.log, "a") as f:
                f.write(json.dumps({"t": time.time(), "path": self.path, "id": wid,
                                    "code": code, "data": data}) + "\n")
        try:
            if parts[0] == "slow" and nth == 1 and rank <= int(parts[3]):
                time.sleep(float(parts[2]))
                self.answer(200)
            elif parts[0] == "drip" and nth == 1 and rank <= int(parts[2]):
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif parts[0] == "ra" and nth <= int(parts[3]):
                self.answer(429, b"slow down", [("Retry-After", parts[2])])
            else:
                self.answer(200)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def exit_with_parent():
    parent, start = os.getppid(), time.time()

    def watch():
        while os.getppid() == parent and time.time() - start < 900:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    port = 0
    if "--port" in args:
        port = int(args[args.index("--port") + 1])
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.log = args[1]
    open(srv.log, "a").close()
    with open(args[0] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args[0] + ".tmp", args[0])
    exit_with_parent()
    srv.serve_forever()


if __name__ == "__main__":
    main()
