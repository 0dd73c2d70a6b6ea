#!/usr/bin/env python3
"""hook_receiver.py - a local HTTP receiver for the notification tests and the bench.

usage: hook_receiver.py PORTFILE LOGFILE [PIDFILE]

Listens on 127.0.0.1 (a free port, written to PORTFILE), logs every request as one JSON
line to LOGFILE: {"t": unix seconds, "path", "id": webhook-id, "ts": webhook-timestamp,
"sig": webhook-signature, "body": the parsed body}, and answers by the path's first part:

  /ok       200
  /flaky    503 to the first request of each webhook-id, then 200
  /hang     no answer for 60 s
  /gone     410
  /slow50   200 after 50 ms
  /kill     the first request ever: 200, then SIGKILL to the pid in PIDFILE; then 200
"""
import json, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logfile = sys.argv[1], sys.argv[2]
pidfile = sys.argv[3] if len(sys.argv) > 3 else None
lock = threading.Lock()
seen = set()
killed = [False]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def answer(self, code, body=b"{}"):
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up (a timeout, or it was killed)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw)
        except Exception:
            body = raw.decode("utf-8", "replace")
        kind = self.path.strip("/").split("/")[0]
        wid = self.headers.get("webhook-id")
        rec = {"t": time.time(), "path": self.path, "id": wid,
               "ts": self.headers.get("webhook-timestamp"),
               "sig": self.headers.get("webhook-signature"), "body": body}
        with lock:
            with open(logfile, "a") as f:
                f.write(json.dumps(rec) + "\n")
            first = (kind, wid) not in seen
            seen.add((kind, wid))
        if kind == "flaky" and first:
            return self.answer(503)
        if kind == "hang":
            time.sleep(60)
            return self.answer(200)
        if kind == "gone":
            return self.answer(410)
        if kind == "slow50":
            time.sleep(0.05)
            return self.answer(200)
        if kind == "kill":
            with lock:
                do_kill = not killed[0]
                killed[0] = True
            self.answer(200)
            if do_kill and pidfile:
                try:
                    os.kill(int(open(pidfile).read().strip()), signal.SIGKILL)
                except Exception:
                    pass
            return
        return self.answer(200)


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
