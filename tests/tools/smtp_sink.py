#!/usr/bin/env python3
"""smtp_sink.py - a tiny SMTP server on 127.0.0.1 that records what it is sent.

Writes its port to PORTFILE and appends one JSON line per accepted message to LOG:
{"t", "mail_from", "rcpt": [...], "data"}. It never offers STARTTLS, so a client that
requires it must refuse to send. A recipient whose local part is "temp" gets 451 (try
later), "reject" gets 550 (refused); a message whose Subject has "REJECTDATA" gets 554
after DATA.
"""
import json
import os
import socketserver
import sys
import threading
import time

LOCK = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 sink.localhost ESMTP test sink")
        mail_from, rcpt = None, []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-sink.localhost")
                self.reply("250-8BITMIME")
                self.reply("250 SIZE 10485760")
            elif verb == "HELO":
                self.reply("250 sink.localhost")
            elif verb == "MAIL":
                mail_from, rcpt = cmd[10:].strip().split(" ")[0], []
                self.reply("250 ok")
            elif verb == "RCPT":
                addr = cmd[8:].strip()
                local = addr.strip("<>").split("@")[0]
                if local == "temp":
                    self.reply("451 4.3.0 try again later")
                elif local == "reject":
                    self.reply("550 5.1.1 no such user")
                else:
                    rcpt.append(addr)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = []
                while True:
                    l = self.rfile.readline(65536)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l)
                text = b"".join(data).decode("utf-8", "replace")
                if "REJECTDATA" in text.split("\r\n\r\n", 1)[0]:
                    self.reply("554 5.6.0 message refused")
                    continue
                with LOCK:
                    with open(self.server.log, "a") as f:
                        f.write(json.dumps({"t": time.time(), "mail_from": mail_from,
                                            "rcpt": rcpt, "data": text}) + "\n")
                self.reply("250 2.0.0 queued")
            elif verb == "RSET":
                mail_from, rcpt = None, []
                self.reply("250 ok")
            elif verb == "NOOP":
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb == "STARTTLS":
                self.reply("502 5.5.1 not offered")
            else:
                self.reply("500 5.5.2 unknown command")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


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
        sys.exit("usage: smtp_sink.py PORTFILE LOG")
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log = sys.argv[2]
    open(srv.log, "a").close()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    exit_with_parent()
    srv.serve_forever()


if __name__ == "__main__":
    main()
