#!/usr/bin/env python3
"""bench.py - notification delivery of stepwatch, measured at a local webhook receiver.

usage: bench.py STEPWATCH_BIN [--incidents 1000] [--latency-n 100] [--poll 500ms]
                [--pg URL]    (a PostgreSQL server URL: each run gets a fresh database there)

1. throughput: N failures with N distinct errors committed at once (N incidents, SLA p2 1ms,
   group_wait 0), one webhook receiver answering each POST after 50 ms: messages delivered
   per second at the receiver (first to last), and commit -> last message.
2. latency: one failure (a new incident) committed every 250 ms, receiver answering at once:
   p50/p99/max from each failure's commit to its incident's first message at the receiver
   (group_wait 0, p2 1ms), against a poll of --poll.

Everything on loopback, a SQLite source and a SQLite store in a temp dir (or, with --pg, a
fresh PostgreSQL store database per run).
"""
import json, os, signal, subprocess, sys, tempfile, time, sqlite3, argparse

HERE = os.path.dirname(os.path.abspath(__file__))
HOOK = os.path.join(HERE, "..", "..", "tests", "integration", "hook_receiver.py")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t * 1000 % 1000)


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise SystemExit("timed out waiting for " + what)


def records(logfile):
    out = []
    try:
        with open(logfile) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def store_url(d, pg):
    if not pg:
        return "sqlite://%s/store.db" % d
    name = "swbench_notify_%d_%d" % (os.getpid(), int(time.time() * 1000) % 100000000)
    subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", pg, "-c", "CREATE DATABASE " + name],
                   check=True, stdout=subprocess.DEVNULL)
    return pg.rsplit("/", 1)[0] + "/" + name


def run(binary, d, path, poll, feed, expect, timeout, pg=None):
    hooklog = os.path.join(d, "hooks.jsonl")
    portfile = os.path.join(d, "hook.port")
    hook = subprocess.Popen([sys.executable, HOOK, portfile, hooklog],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = wait_for(lambda: os.path.exists(portfile) and open(portfile).read(), 10, "receiver")
    app = os.path.join(d, "app.db")
    db = sqlite3.connect(app, isolation_level=None)
    db.execute("CREATE TABLE steps (instance_id TEXT, user_id TEXT, step TEXT, status TEXT,"
               " error TEXT, started_at TEXT, finished_at TEXT, updated_at TEXT)")
    db.execute("CREATE INDEX steps_u ON steps (updated_at)")
    cfg = os.path.join(d, "sw.yaml")
    with open(cfg, "w") as f:
        f.write(f"""store: "{store_url(d, pg)}"
http: {{ listen: 127.0.0.1:0 }}
sources:
  app: {{ url: "sqlite://{app}" }}
workflows:
  w:
    source: app
    poll: {poll}
    steps_query: SELECT * FROM steps WHERE updated_at > :since ORDER BY updated_at
    steps: [a, b]
    defaults:
      sla: {{ p2: 1ms, p1: 1h, p0: 2h }}
      stuck_after: 1h
      group_by: [error]
levels:
  P2: {{ notify: [hook] }}
receivers:
  hook: {{ webhook: {{ url: "http://127.0.0.1:{port}/{path}" }} }}
notify: {{ group_wait: 0s, group_interval: 5m, repeat_interval: 4h }}
""")
    swlog = open(os.path.join(d, "serve.log"), "w")
    sw = subprocess.Popen([binary, "serve", "-c", cfg], stdout=swlog, stderr=swlog)
    try:
        wait_for(lambda: "msg=serving" in open(os.path.join(d, "serve.log")).read(), 30, "serve")
        time.sleep(1.0)
        commits = feed(db)
        wait_for(lambda: len(records(hooklog)) >= expect, timeout, "%d messages" % expect)
        time.sleep(0.5)
        return commits, records(hooklog)
    finally:
        sw.send_signal(signal.SIGTERM)
        try:
            sw.wait(20)
        except subprocess.TimeoutExpired:
            sw.kill()
        hook.kill()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--latency-n", type=int, default=100)
    ap.add_argument("--poll", default="500ms")
    ap.add_argument("--pg", default=None)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="swbench-notify.") as d:
        def feed(db):
            now = time.time()
            rows = [("i%d" % i, "u%d" % i, "a", "FAILED", "E%d" % i, iso(now), iso(now), iso(now))
                    for i in range(a.incidents)]
            db.execute("BEGIN")
            db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
            return {"all": time.time()}
        commits, rs = run(a.binary, d, "slow50", a.poll, feed, a.incidents, 600, a.pg)
        ts = sorted(r["t"] for r in rs)
        keys = len(set(r["id"] for r in rs))
        span = ts[-1] - ts[0]
        print("store: %s" % ("PostgreSQL" if a.pg else "SQLite"))
        print("throughput: %d incidents at once, receiver answering in 50 ms" % a.incidents)
        print("  messages received %d (distinct keys %d)" % (len(rs), keys))
        print("  first message %.2f s after the commit, last %.2f s after" %
              (ts[0] - commits["all"], ts[-1] - commits["all"]))
        print("  delivery rate %.1f messages/s (first to last)" % ((len(ts) - 1) / span if span > 0 else 0))

    with tempfile.TemporaryDirectory(prefix="swbench-notify.") as d:
        def feed(db):
            out = {}
            for i in range(a.latency_n):
                now = time.time()
                db.execute("INSERT INTO steps VALUES (?, ?, 'a', 'FAILED', ?, ?, ?, ?)",
                           ("l%d" % i, "v%d" % i, "L%d" % i, iso(now), iso(now), iso(now)))
                out["L%d" % i] = time.time()  # autocommit: committed when execute returns
                time.sleep(0.25)
            return out
        commits, rs = run(a.binary, d, "ok", a.poll, feed, a.latency_n, 120, a.pg)
        first = {}
        for r in rs:
            e = r["body"]["data"]["labels"].get("error")
            first[e] = min(first.get(e, 1e18), r["t"])
        lat = [(first[e] - t) * 1000 for e, t in commits.items() if e in first]
        print("latency: %d failures, one every 250 ms, poll %s, group_wait 0, p2 1ms" % (len(lat), a.poll))
        print("  commit -> first message: p50 %.0f ms, p99 %.0f ms, max %.0f ms" %
              (pct(lat, 50), pct(lat, 99), max(lat)))


if __name__ == "__main__":
    main()
