#!/usr/bin/python3
"""paced.py - a fixed-rate HTTP client (what wrk2 does, which Debian does not ship).

Sends exactly RATE requests per second for DURATION seconds over CONNS keep-alive
connections, request k due at t0 + k/RATE, and measures each latency from the time it was
due, not from when it was sent: a server that falls behind is charged for the wait
(no coordinated omission). Prints one line:
  rate=1000 sent=15000 achieved=999.8 errors=0 p50_ms=0.41 p90_ms=0.52 p99_ms=0.93 max_ms=4.1

usage: paced.py URL_OR_TEMPLATE RATE DURATION [CONNS]
A '{id}' in the URL is replaced, per request, by a random integer 1..$MAX_ID (default 100000).
"""
import http.client
import os
import random
import sys
import threading
import time
import urllib.parse


def main():
    url, rate, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    conns = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    max_id = int(os.environ.get("MAX_ID", "100000"))
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    total = int(rate * duration)
    lat = [[] for _ in range(conns)]
    errors = [0] * conns
    t0 = time.monotonic() + 0.2

    def worker(j):
        rnd = random.Random(j)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        for k in range(j, total, conns):
            due = t0 + k / rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            path = target.replace("{id}", str(rnd.randint(1, max_id)))
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors[j] += 1
            except (OSError, http.client.HTTPException):
                errors[j] += 1
                c.close()
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            lat[j].append(time.monotonic() - due)

    threads = [threading.Thread(target=worker, args=(j,)) for j in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    all_lat = sorted(x for l in lat for x in l)
    n = len(all_lat)

    def pct(p):
        return all_lat[min(n - 1, int(p * n))] * 1000 if n else float("nan")

    print(f"rate={rate:g} sent={n} achieved={n / elapsed:.1f} errors={sum(errors)} "
          f"p50_ms={pct(0.50):.2f} p90_ms={pct(0.90):.2f} p99_ms={pct(0.99):.2f} "
          f"max_ms={(all_lat[-1] * 1000 if n else float('nan')):.2f}")


if __name__ == "__main__":
    main()
