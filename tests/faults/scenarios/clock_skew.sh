#!/usr/bin/env bash
# clock_skew.sh - distributed mode with two serves whose wall clocks are 30 s apart (one
# under libfaketime +30 s) sharing one store and a private Redis. Escalations computed on
# the fast node come early, by design, but none is lost, repeated, backwards or skipped,
# and no alert is duplicated.
# The leader is stopped (SIGTERM: lease released) and, later, killed (kill -9: the lease
# expires). Figures: time from each to new failures detected. Skipped without libfaketime.
. "$(dirname "$0")/../lib.bash"

FTLIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
[ -n "$FTLIB" ] || skip clock_skew "libfaketime is not installed (apt-get install libfaketime)"
echo "+30" >"$T/faketime"
rp_init
STORE=$(pg_newdb swfskewstore)
SRC=$(pg_newdb swfskewsrc)
src_init "$SRC"
write_cfg "$T/cfg.yaml" "$STORE" "$SRC" "broker: $RP_URL"
"$SW_BIN" migrate -c "$T/cfg.yaml" >>"$T/migrate.log" 2>&1 || fail "migrate"
start_a() { sw_start serve-a serve -c "$T/cfg.yaml"; A=$SW_PID; }
start_b() {
  LD_PRELOAD=$FTLIB FAKETIME_TIMESTAMP_FILE=$T/faketime FAKETIME_DONT_FAKE_MONOTONIC=1 \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" sw_start serve-b serve -c "$T/cfg.yaml"
  B=$SW_PID
}
start_a
start_b
add_failed "$SRC" 1 100
wait_eq 30 "alerts with both nodes up" 100 sq pg "$STORE" "SELECT count(*) FROM alerts"

# the leader goes (SIGTERM: it releases the lease), the other node takes over
leader=$(rp GET stepwatch:leader | cut -d: -f2)
stop_ok "$leader"
t0=$(now_ms)
add_failed "$SRC" 101 200
wait_ms 60 alerts_are pg "$STORE" 200 >/dev/null || fail "failures detected after the handover"
hand_ms=$(($(now_ms) - t0))
if [ "$leader" = "$A" ]; then from=normal; start_a; else from=fast; start_b; fi

# and the leader is killed: the other takes over once the lease expires
add_failed "$SRC" 201 300
wait_eq 30 "alerts with both nodes up again" 300 sq pg "$STORE" "SELECT count(*) FROM alerts"
leader=$(rp GET stepwatch:leader | cut -d: -f2)
[ "$leader" = "$A" ] && other=$B || other=$A
kill -9 "$leader"; wait "$leader" 2>/dev/null || true
t0=$(now_ms)
add_failed "$SRC" 301 400
wait_ms 60 alerts_are pg "$STORE" 400 >/dev/null || fail "failures detected after the leader's kill"
fail_ms=$(($(now_ms) - t0))
wait_ms 30 all_at_p0 pg "$STORE" >/dev/null || fail "every alert reached P0"
check_store pg "$STORE" "$SRC" 400 0
log "FIGURES clock_skew handover_from=$from handover_detect_ms=$hand_ms kill_detect_ms=$fail_ms"
stop_ok "$other"
result clock_skew "two serves 30 s apart (libfaketime): the leader stopped, later killed" "$hand_ms" \
  "detected ${hand_ms} ms after the leader's SIGTERM, ${fail_ms} ms after its kill -9 (lease expiry)"
finish
