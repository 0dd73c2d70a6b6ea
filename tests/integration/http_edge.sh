#!/usr/bin/env bash
# http_edge.sh - the edge of the HTTP API of the real binary, probed as an attacker and a
# careless client would: without tokens a rebinding Host is refused (421), a text/plain
# silence (what any page may POST) is 415 and creates nothing, a write from another origin
# is 403; 5,000 '&' and 1,000 'limit=1' answer 400 at once; two Content-Lengths, a
# 'Bearer <token>\0junk' and HTTP/1.1 without Host are 400; error bodies are valid UTF-8;
# /readyz shows its detail only with a token; Python's urllib, which writes a 2 MiB body
# whole before reading, reads the 413 ten times out of ten; 50 connections dripping a
# header byte a second are closed with 408 within http.request_timeout while /healthz
# stays fast. Bounded: about 20 s.
. "$(dirname "$0")/lib.bash"

SRC=$(pg_newdb swedge)
q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
export SW_TOK_VIEW=view-secret-1 SW_TOK_ADMIN=admin-secret-3
write_cfg() { # FILE STORE HTTP_EXTRA
  cat >"$1" <<YAML
store: sqlite://$2
http:
  listen: 127.0.0.1:0
  request_timeout: 3s
$3
sources:
  app: { url: "$SRC" }
workflows:
  loan:
    source: app
    poll: 1s
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at FROM loan_steps
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull]
YAML
}
write_cfg "$T/open.yaml" "$T/open.db" ""
write_cfg "$T/tok.yaml" "$T/tok.db" "  tokens:
    - { name: dash, token_env: SW_TOK_VIEW, role: viewer }
    - { name: root, token_env: SW_TOK_ADMIN, role: admin }"
sw_start open serve -c "$T/open.yaml"
sw_start tok serve -c "$T/tok.yaml"
wait_eq 10 "open listening" 1 grep -c "msg=listening" "$T/open.log"
wait_eq 10 "tokens listening" 1 grep -c "msg=listening" "$T/tok.log"
open_port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/open.log" | head -1)
tok_port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/tok.log" | head -1)
grep -q "request_timeout_ms=3000" "$T/open.log" && ok "http.request_timeout applied" \
  || fail "http.request_timeout not applied: $(grep 'http listening' "$T/open.log")"
sed 's/request_timeout: 3s/request_timeout: 2h/' "$T/open.yaml" >"$T/bad.yaml"
rc=0; out=$("$SW_BIN" check -c "$T/bad.yaml" 2>&1) || rc=$?
expect_eq "$rc" 2 "check refuses http.request_timeout: 2h"
grep -q "http.request_timeout: must be 1s..1h" <<<"$out" && ok "it says why" || fail "check said: $out"

cat >"$T/edge.py" <<'PY'
import json, socket, sys, threading, time, urllib.error, urllib.request

OPEN, TOK, VIEW, ADMIN = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
fails = 0

def log(ok, what):
    global fails
    fails += 0 if ok else 1
    print(("ok: " if ok else "FAIL: ") + what, file=sys.stderr, flush=True)

def raw(port, data, timeout=10):
    """Send raw bytes, read until the server closes or one whole answer is in."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.monotonic()
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if cl and len(body) >= int(cl[0].split(b":")[1]):
                    break
    except OSError:
        pass
    s.close()
    status = int(out[9:12]) if out.startswith(b"HTTP/1.1 ") else 0
    return status, out.partition(b"\r\n\r\n")[2], time.monotonic() - t0

def get(port, path, host="127.0.0.1", extra=b""):
    return raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + extra + b"\r\n")

def post(port, path, body, ctype=b"application/json", extra=b""):
    return raw(port, b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
               + (b"Content-Type: " + ctype + b"\r\n" if ctype else b"") + extra
               + b"Content-Length: %d\r\n\r\n" % len(body) + body)

def code(body):
    try:
        return json.loads(body)["error"]["code"]
    except Exception:
        return repr(body[:80])

# --- no tokens: DNS rebinding, cross-site writes ---
st, body, _ = get(OPEN, b"/api/v1/alerts", host="rebind.attacker.example:%d" % OPEN)
log(st == 421 and code(body) == "misdirected_request", "rebinding Host refused (%d %s)" % (st, code(body)))
for h in ("localhost:%d" % OPEN, "127.0.0.1:%d" % OPEN, "[::1]:%d" % OPEN, "localhost"):
    st, body, _ = get(OPEN, b"/api/v1/alerts", host=h)
    log(st == 200, "Host %s served (%d)" % (h, st))
silence = b'{"workflow": "loan", "ends_at": "2099-01-01T00:00:00Z", "pause_escalation": true}'
st, body, _ = post(OPEN, b"/api/v1/silences", silence, ctype=b"text/plain")
log(st == 415 and code(body) == "unsupported_media_type", "text/plain silence refused (%d %s)" % (st, code(body)))
st, body, _ = post(OPEN, b"/api/v1/silences", silence, extra=b"Origin: http://evil.example\r\n")
log(st == 403, "cross-origin silence refused (%d)" % st)
st, body, _ = get(OPEN, b"/api/v1/silences")
log(st == 200 and json.loads(body)["items"] == [], "no silence was created (%d %s)" % (st, body[:80]))
st, body, _ = post(OPEN, b"/api/v1/silences", silence, extra=b"Origin: http://127.0.0.1:%d\r\n" % OPEN)
log(st == 201, "same-origin JSON silence created (%d)" % st)

# --- parsing ---
for what, path in (("5,000 '&'", b"/api/v1/alerts?" + b"&" * 5000),
                   ("1,000 limit=1", b"/api/v1/alerts?" + b"&".join([b"limit=1"] * 1000))):
    st, body, took = get(OPEN, path)
    log(st == 400 and code(body) == "bad_request" and took < 2, "%s: %d %s in %.2f s" % (what, st, code(body), took))
st, body, _ = raw(OPEN, b"POST /api/v1/silences HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}")
log(st == 400, "two Content-Lengths: %d" % st)
st, body, _ = raw(OPEN, b"GET /healthz HTTP/1.1\r\n\r\n")
log(st == 400, "HTTP/1.1 without Host: %d" % st)
st, body, _ = get(TOK, b"/api/v1/alerts", extra=b"Authorization: Bearer " + VIEW.encode() + b"\0junk\r\n")
log(st == 400, "'Bearer <token>\\0junk' does not authenticate: %d" % st)
st, body, _ = get(TOK, b"/api/v1/alerts", extra=b"Authorization: Bearer " + VIEW.encode() + b"\r\n")
log(st == 200, "the token itself does: %d" % st)
st, body, _ = get(OPEN, b"/nope/" + b"a" * 192 + "€€".encode())
try:
    msg = json.loads(body.decode("utf-8"))["error"]["message"]
except Exception as e:
    msg = repr(e)
log(st == 404 and msg.endswith("aaa'") and "\ufffd" not in msg,
    "404 message cut on a character boundary: %d %r" % (st, msg[-12:]))
st, body, _ = get(OPEN, b"/nope/\xff\xc3")
try:
    body.decode("utf-8")
    utf8 = True
except UnicodeDecodeError:
    utf8 = False
log(st == 400 and utf8 and "\ufffd" in body.decode("utf-8", "replace"), "raw invalid bytes replaced: %d %r" % (st, body[-30:]))

# --- /readyz ---
st, body, _ = get(TOK, b"/readyz")
log(set(json.loads(body)) == {"status"}, "anonymous /readyz: status only (%d %s)" % (st, body[:60]))
st, body, _ = get(TOK, b"/readyz", extra=b"Authorization: Bearer " + VIEW.encode() + b"\r\n")
log("components" in json.loads(body), "viewer /readyz: the detail (%d)" % st)
st, body, _ = get(OPEN, b"/readyz")
log("components" in json.loads(body), "no-token /readyz on loopback: the detail (%d)" % st)

# --- a 2 MiB body written whole before the answer is read ---
n413 = 0
for i in range(10):
    r = urllib.request.Request("http://127.0.0.1:%d/api/v1/step-records" % TOK,
                               data=b"[" + b" " * (2 * 1024 * 1024) + b"]",
                               headers={"Content-Type": "application/json",
                                        "Authorization": "Bearer " + ADMIN})
    try:
        urllib.request.urlopen(r, timeout=20)
    except urllib.error.HTTPError as e:
        n413 += e.code == 413
    except Exception as e:
        print("  try %d: %r" % (i, e), file=sys.stderr)
log(n413 == 10, "urllib, 2 MiB body: 413 in %d of 10" % n413)

# --- slowloris: 50 connections drip a header byte a second ---
N, t0 = 50, time.monotonic()
socks, closed, got408 = [], {}, set()
for i in range(N):
    s = socket.create_connection(("127.0.0.1", OPEN), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Drip: ")
    s.setblocking(False)
    socks.append(s)
worst = 0.0
while len(closed) < N and time.monotonic() - t0 < 20:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.send(b"a")
        except OSError:
            pass
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    closed[i] = time.monotonic() - t0
                    break
                if b.startswith(b"HTTP/1.1 408"):
                    got408.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed[i] = time.monotonic() - t0
    h0 = time.monotonic()
    st, _, _ = get(OPEN, b"/healthz")
    worst = max(worst, time.monotonic() - h0)
    if st != 200:
        log(False, "/healthz during the drip: %d" % st)
    time.sleep(1)
for s in socks:
    s.close()
last = max(closed.values()) if closed else -1
log(len(closed) == N, "%d of %d dripping connections closed" % (len(closed), N))
log(0 < last <= 3 + 4, "the last closed after %.1f s (request_timeout 3 s)" % last)
log(len(got408) >= N - 2, "%d got a 408" % len(got408))
log(worst < 1, "slowest /healthz meanwhile %.3f s" % worst)
sys.exit(1 if fails else 0)
PY
rc=0
python3 "$T/edge.py" "$open_port" "$tok_port" "$SW_TOK_VIEW" "$SW_TOK_ADMIN" || rc=$?
expect_eq "$rc" 0 "every edge probe"
finish
