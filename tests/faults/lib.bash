# lib.bash - shared by the fault scenarios (tests/faults/scenarios/*.sh). Sourced, not run.
#
# On top of tests/integration/lib.bash ($T, pg_newdb, q, qs, wait_eq, sw_start, fail, ok):
# a private PostgreSQL server or Redis the scenario may stop and start at will, a standard
# workload (one workflow on a PostgreSQL source), the checker that reads the store and
# asserts the invariants, and the result line the runner collects.
#
# FAULT_MODE=reduced (short faults, small volumes: the test command) or full (the figures of
# docs/reliability.md). FAULT_RESULTS: a file the result lines are appended to.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.bash"

FAULT_MODE=${FAULT_MODE:-reduced}
full() { [ "$FAULT_MODE" = full ]; }
chmod 755 "$T" # a private PostgreSQL runs as the postgres user

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_ms TIMEOUT_S CMD... : run CMD until it succeeds; prints the ms it took, or fails
wait_ms() {
  local timeout=$1 t0 deadline
  shift
  t0=$(now_ms)
  deadline=$((t0 + timeout * 1000))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(now_ms)" -ge $deadline ]; then
      echo -1
      return 1
    fi
    sleep 0.05
  done
  echo $(($(now_ms) - t0))
}

# ---- private servers ------------------------------------------------------------------

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
asuser() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() {
  local p
  for _ in $(seq 200); do
    # below the kernel's ephemeral range (32768-60999): a port free now cannot be taken
    # by a client connection's local end before the server binds it
    p=$((10000 + RANDOM % 22768))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
PRIV_PG_DIRS=()
PRIV_REDIS_PIDS=()
FAULT_MOUNTS=()
fault_cleanup() {
  local d p
  for p in "${SW_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for d in "${FAULT_MOUNTS[@]}"; do umount -l "$d" 2>/dev/null || true; done
  for d in "${PRIV_PG_DIRS[@]}"; do
    asuser "$PGBIN/pg_ctl" -D "$d" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  done
  for p in "${PRIV_REDIS_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  cleanup
}
trap fault_cleanup EXIT

# pgp_init NAME: a private PostgreSQL in $T/NAME; sets PGP_DIR, PGP_PORT, PGP_URL
pgp_init() {
  PGP_DIR=$T/$1
  PGP_PORT=$(free_port)
  mkdir -p "$PGP_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PGP_DIR"
  asuser "$PGBIN/initdb" -D "$PGP_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$T/$1-initdb.log" 2>&1
  PRIV_PG_DIRS+=("$PGP_DIR/data")
  # a port found free may be taken before the server binds it: try up to three ports
  local try
  for try in 1 2 3; do
    pgp_start && break
    [ "$try" = 3 ] && { cat "$PGP_DIR/pg.log" >&2; return 1; }
    PGP_PORT=$(free_port)
  done
  PGP_URL="postgresql://postgres@127.0.0.1:$PGP_PORT/postgres"
}
pgp_start() {
  asuser "$PGBIN/pg_ctl" -D "$PGP_DIR/data" -l "$PGP_DIR/pg.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $PGP_PORT -c unix_socket_directories=$PGP_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null
}
pgp_stop() { asuser "$PGBIN/pg_ctl" -D "$PGP_DIR/data" -m "${1:-fast}" -w -t 60 stop >/dev/null; }

# rp_init: a private Redis; sets RP_PORT, RP_URL; rp_stop / rp_start restart it on that port
rp_init() {
  local try
  for try in 1 2 3; do # a port taken between the pick and the bind: another one
    RP_PORT=$(free_port)
    RP_URL="redis://127.0.0.1:$RP_PORT/0"
    rp_start && return 0
  done
  return 1
}
rp_start() {
  local try
  for try in 1 2 3; do
    redis-server --bind 127.0.0.1 --port "$RP_PORT" --daemonize yes --save '' --appendonly no \
      --dir "$T" --pidfile "$T/redis-$RP_PORT.pid" --logfile "$T/redis-$RP_PORT.log"
    for _ in $(seq 100); do
      redis-cli -p "$RP_PORT" ping >/dev/null 2>&1 && [ -s "$T/redis-$RP_PORT.pid" ] && break
      sleep 0.05
    done
    if [ -s "$T/redis-$RP_PORT.pid" ]; then
      PRIV_REDIS_PIDS+=("$(cat "$T/redis-$RP_PORT.pid")")
      return 0
    fi
    sleep 0.5 # the port of the last instance not free yet
  done
  log "cannot start redis on port $RP_PORT"; tail -5 "$T/redis-$RP_PORT.log" >&2
  return 1
}
# rp_stop: shut it down, and wait until the port is closed
rp_stop() {
  redis-cli -p "$RP_PORT" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 100); do
    redis-cli -p "$RP_PORT" ping >/dev/null 2>&1 || break
    sleep 0.05
  done
  rm -f "$T/redis-$RP_PORT.pid"
}
rp() { redis-cli -p "$RP_PORT" "$@"; }

# ---- the workload ---------------------------------------------------------------------

# src_init URL: the application's table (updated_at at millisecond precision, as stored)
src_init() {
  q "$1" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
      error_code text, started_at timestamptz, finished_at timestamptz,
      updated_at timestamptz NOT NULL, PRIMARY KEY (application_id, step));
    CREATE INDEX ON loan_steps (updated_at);
    CREATE VIEW steps_v AS SELECT * FROM loan_steps;"
}
# add_failed URL FROM TO: a FAILED bureau_pull for instances FROM..TO
add_failed() {
  q "$1" "INSERT INTO loan_steps SELECT i, 'u' || i, 'bureau_pull', 'FAILED', 'BUREAU_TIMEOUT',
            now(), now(), date_trunc('milliseconds', clock_timestamp())
          FROM generate_series($2, $3) i"
}
# add_success URL FROM TO: those instances recover
add_success() {
  q "$1" "UPDATE loan_steps SET status = 'SUCCESS', error_code = NULL,
            updated_at = date_trunc('milliseconds', clock_timestamp())
          WHERE application_id BETWEEN $2 AND $3 AND step = 'bureau_pull'"
}

# write_cfg FILE STORE_URL SOURCE_URL [EXTRA_TOP_LEVEL_YAML]
# SLAs p2 1s, p1 2s, p0 3s: every alert goes through every level within seconds
write_cfg() {
  local src=$3
  # the source reads as a SELECT-only role (docs/security.md), unless one is named already
  [[ $src == postgresql://postgres@* ]] && src=$(pg_reader "$src")
  cat >"$1" <<YAML
store: $2
${4:-}
http: { listen: "127.0.0.1:0" }
sources:
  app: { url: "$src", statement_timeout: 2s }
workflows:
  loan:
    source: app
    poll: 200ms
    overlap: 5s
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at FROM steps_v
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull]
    defaults:
      sla: { p2: 1s, p1: 2s, p0: 3s }
      stuck_after: 1h
      abandon_after: 1d
YAML
}

# stop_ok PID...: SIGTERM, and each exits 0 (under the ASan build: no leak at exit either)
stop_ok() {
  local p code
  kill -TERM "$@" 2>/dev/null || true
  for p in "$@"; do
    code=0
    wait "$p" 2>/dev/null || code=$?
    expect_eq "$code" 0 "exit code of $p after SIGTERM"
  done
}

# http_port LOGFILE: the port a serve listens on
http_port() { sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$1" | tail -1; }
# readyz_is CODE LOGFILE
readyz_is() {
  [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(http_port "$2")/readyz")" = "$1" ]
}

# sq KIND STORE SQL: a query on the store (pg: a URL; sqlite: a file)
sq() { if [ "$1" = pg ]; then q "$2" "$3"; else qs "$2" "$3"; fi; }
# alerts_are KIND STORE N: the store holds N alerts
alerts_are() { [ "$(sq "$1" "$2" "SELECT count(*) FROM alerts")" = "$3" ]; }
# all_at_p0 KIND STORE: every open alert reached P0
all_at_p0() { [ "$(sq "$1" "$2" "SELECT count(*) FROM alerts WHERE state < 3")" = 0 ]; }

# ---- the checker ------------------------------------------------------------------------

LOST=0 DUP=0
# check_store KIND STORE SRC EXPECT_ALERTS EXPECT_RESOLVED
# Reads the store and the source and asserts: no step record skipped (every source row,
# at its current status and updated_at, is its step's current state in instance_steps), no
# alert lost or duplicated
# (one per failed instance, one 'opened' row each), escalations never backwards, never
# repeated, never skipping a level; nothing resolved whose source row is still FAILED, and
# exactly EXPECT_RESOLVED resolved. Sets LOST and DUP.
check_store() {
  local kind=$1 st=$2 src=$3 want=$4 want_res=$5 n distinct opened v
  q "$src" "SELECT application_id || '|' || step || '|' ||
      CASE status WHEN 'IN_PROGRESS' THEN 0 WHEN 'SUCCESS' THEN 1 ELSE 2 END || '|' ||
      (extract(epoch FROM updated_at) * 1000)::bigint FROM loan_steps" | sort >"$T/src.rows"
  sq "$kind" "$st" "SELECT instance_id || '|' || step || '|' || status || '|' || updated_at
      FROM instance_steps" | sort >"$T/store.rows"
  v=$(comm -23 "$T/src.rows" "$T/store.rows" | wc -l)
  expect_eq "$v" 0 "step records skipped"
  n=$(sq "$kind" "$st" "SELECT count(*) FROM alerts")
  distinct=$(sq "$kind" "$st" "SELECT count(*) FROM (SELECT DISTINCT rule, workflow, instance_id, step FROM alerts) x")
  opened=$(sq "$kind" "$st" "SELECT count(*) FROM alert_history WHERE event = 'opened'")
  LOST=$((want - distinct))
  DUP=$((n - distinct + opened - n))
  expect_eq "$LOST" 0 "alerts lost (want $want)"
  expect_eq "$((n - distinct))" 0 "alerts duplicated"
  expect_eq "$((opened - n))" 0 "extra 'opened' history rows"
  expect_eq "$(sq "$kind" "$st" "SELECT count(*) FROM alert_history
      WHERE event = 'escalated' AND to_state <= from_state")" 0 "escalations backwards"
  expect_eq "$(sq "$kind" "$st" "SELECT count(*) FROM (SELECT alert_id, to_state FROM alert_history
      WHERE event = 'escalated' GROUP BY alert_id, to_state HAVING count(*) > 1) x")" 0 "escalations repeated"
  expect_eq "$(sq "$kind" "$st" "SELECT count(*) FROM (SELECT alert_id FROM alert_history
      WHERE event = 'escalated' GROUP BY alert_id HAVING count(*) <> max(to_state)) x")" 0 \
    "escalations skipping a level"
  sq "$kind" "$st" "SELECT instance_id FROM alerts WHERE state = 4" | sort >"$T/resolved.ids"
  q "$src" "SELECT application_id FROM loan_steps WHERE status = 'FAILED'" | sort >"$T/failed.ids"
  expect_eq "$(comm -12 "$T/resolved.ids" "$T/failed.ids" | wc -l)" 0 "resolved while still FAILED"
  expect_eq "$(wc -l <"$T/resolved.ids")" "$want_res" "alerts resolved"
}

# opened_logged LOGFILE...: the sum of opened= over the 'task run' lines
opened_logged() { cat "$@" | sed -n 's/.*msg="task run".* opened=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'; }

# skip NAME WHY: the scenario cannot run here; says so and exits 0
skip() {
  log "SKIPPED: $2"
  [ -n "${FAULT_RESULTS:-}" ] && echo "RESULT|$1|-|-|-|-|skipped|$2" >>"$FAULT_RESULTS"
  exit 0
}

# result NAME INJECTED RECOVER_MS [NOTE]: the scenario's line for the runner's table
result() {
  local status=pass
  [ "$FAILS" -gt 0 ] && status=FAIL
  local line="RESULT|$1|$2|$3|$LOST|$DUP|$status|${4:-}"
  echo "$line" >&2
  [ -n "${FAULT_RESULTS:-}" ] && echo "$line" >>"$FAULT_RESULTS"
  return 0
}

# ---- receivers and the notification checker ---------------------------------------------

# add_failed_err URL FROM TO K: like add_failed, with K error codes (E<FROM>_0..): K new incidents
add_failed_err() {
  q "$1" "INSERT INTO loan_steps SELECT i, 'u' || i, 'bureau_pull', 'FAILED', 'E' || $2 || '_' || (i % $4),
            now(), now(), date_trunc('milliseconds', clock_timestamp())
          FROM generate_series($2, $3) i"
}

# notify_yaml RECEIVER=PATH...: the levels, receivers and notify sections of a config in which
# every receiver hears of every message (all on P2), each on its own receiver process (a
# receiver NAME is reached at http://127.0.0.1:${RPORT[NAME]}PATH)
notify_yaml() {
  local r names=() recv=""
  for r in "$@"; do
    names+=("${r%%=*}")
    recv+="  ${r%%=*}: { webhook: { url: \"http://127.0.0.1:${RPORT[${r%%=*}]}${r#*=}\" } }"$'\n'
  done
  local IFS=,
  printf 'levels:\n  P2: { notify: [%s] }\nreceivers:\n%snotify: { group_wait: 1s, group_interval: 1h, repeat_interval: 1h }\n' \
    "${names[*]}" "$recv"
}

# recv_start NAME [PORT]: a receiver process (tests/faults/receiver.py) logging to
# $T/NAME.jsonl; on PORT to come back where it was. Sets RPID[NAME], RPORT[NAME].
declare -A RPID RPORT
recv_start() {
  rm -f "$T/$1.port"
  python3 "$(dirname "${BASH_SOURCE[0]}")/receiver.py" "$T/$1.port" "$T/$1.jsonl" \
    ${2:+--port "$2"} 2>>"$T/$1.err" &
  RPID[$1]=$!
  SW_PIDS+=("$!")
  wait_eq 10 "receiver $1 listening" 1 bash -c "test -s '$T/$1.port' && echo 1"
  RPORT[$1]=$(cat "$T/$1.port")
}
# recv_stop NAME: kill it; its port refuses connections until recv_start NAME PORT
recv_stop() { kill -9 "${RPID[$1]}" 2>/dev/null || true; wait "${RPID[$1]}" 2>/dev/null || true; }

# outbox_left KIND STORE RECEIVER: rows of RECEIVER not sent yet (0: all delivered)
outbox_left() { sq "$1" "$2" "SELECT count(*) FROM outbox WHERE receiver = '$3' AND status <> 'sent'"; }
outbox_all_sent() { [ "$(outbox_left "$1" "$2" "$3")" = 0 ]; }

# notify_py KIND STORE RECEIVER SCRIPT: run python SCRIPT with rows (the receiver's outbox:
# key, status, created_at ms) and reqs (the receiver's log) defined
notify_py() {
  sq "$1" "$2" "SELECT idem_key || '|' || status || '|' || created_at FROM outbox
      WHERE receiver = '$3' ORDER BY id" >"$T/$3.outbox"
  python3 - "$T/$3.outbox" "$T/$3.jsonl" "$4" <<'PY'
import json, sys
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
reqs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
exec(sys.argv[3])
PY
}

# check_notify KIND STORE RECEIVER MAX_DUP [OTHER_RECEIVER]
# Reads RECEIVER's outbox rows and its log and asserts: keys unique, one per message (each
# key sw-<incident>-<seq>-RECEIVER; every request of one key carries the same message); no
# message lost (every row sent, and its key in the log, answered 2xx); no request with a key
# the outbox does not hold; at most 1 + MAX_DUP deliveries (requests the receiver answered
# 2xx, or would have: a slow answer comes too late for the client but the receiver has the
# message) per key; with OTHER_RECEIVER: both were sent the same messages. Adds to LOST and
# DUP (deliveries beyond the first, over all keys).
check_notify() {
  local out lost dup
  out=$(notify_py "$1" "$2" "$3" "
from collections import Counter, defaultdict
keys = [r[0] for r in rows]
cnt = Counter(q['id'] for q in reqs if 200 <= q.get('code', 200) < 300)
data = defaultdict(set)
for q in reqs:
    data[q['id']].add(json.dumps(q['data'], sort_keys=True))
lost = sum(1 for r in rows if r[1] != 'sent' or r[0] not in cnt)
print('keys', len(keys), 'unique', len(set(keys)))
print('badform', sum(1 for k in keys if not (k.startswith('sw-') and k.endswith('-$3'))))
print('lost', lost)
print('unknown', sum(1 for k in set(q['id'] for q in reqs) if k not in set(keys)))
print('maxreq', max(cnt.values()) if cnt else 0)
print('dup', sum(c - 1 for c in cnt.values()))
print('mixed', sum(1 for k in data if len(data[k]) > 1))
print('msgs', ' '.join(sorted(k[:-len('-$3')] for k in keys)))
")
  log "check_notify $3: $(grep -v '^msgs' <<<"$out" | tr '\n' ' ')"
  expect_eq "$(sed -n 's/^keys \([0-9]*\) unique \([0-9]*\)/\1/p' <<<"$out")" \
    "$(sed -n 's/^keys \([0-9]*\) unique \([0-9]*\)/\2/p' <<<"$out")" "[$3] idempotency keys unique"
  [ "$(sed -n 's/^keys \([0-9]*\).*/\1/p' <<<"$out")" -ge 1 ] && ok "[$3] messages planned" \
    || fail "[$3] no message planned"
  expect_eq "$(sed -n 's/^badform //p' <<<"$out")" 0 "[$3] keys are sw-<incident>-<seq>-$3"
  lost=$(sed -n 's/^lost //p' <<<"$out")
  expect_eq "$lost" 0 "[$3] messages lost (not sent, or never seen by the receiver)"
  expect_eq "$(sed -n 's/^unknown //p' <<<"$out")" 0 "[$3] requests with a key not in the outbox"
  expect_eq "$(sed -n 's/^mixed //p' <<<"$out")" 0 "[$3] one message per key"
  [ "$(sed -n 's/^maxreq //p' <<<"$out")" -le $((1 + $4)) ] && ok "[$3] at most $4 duplicate(s) per key" \
    || fail "[$3] a key came $(sed -n 's/^maxreq //p' <<<"$out") times (at most $((1 + $4)))"
  dup=$(sed -n 's/^dup //p' <<<"$out")
  LOST=$((LOST + lost)) DUP=$((DUP + dup))
  if [ -n "${5:-}" ]; then
    local other
    other=$(notify_py "$1" "$2" "$5" "print(' '.join(sorted(r[0][:-len('-$5')] for r in rows)))")
    expect_eq "$(sed -n 's/^msgs //p' <<<"$out")" "$other" "[$3] was sent the same messages as $5"
  fi
}

# notify_latency KIND STORE RECEIVER: "p50 max" ms from an outbox row's creation to the
# receiver's first request with its key
notify_latency() {
  notify_py "$1" "$2" "$3" "
first = {}
for q in reqs:
    first.setdefault(q['id'], q['t'])
ls = sorted(int(first[r[0]] * 1000 - int(r[2])) for r in rows if r[0] in first)
print(ls[len(ls) // 2] if ls else -1, ls[-1] if ls else -1)
"
}
