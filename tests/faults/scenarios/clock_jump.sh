#!/usr/bin/env bash
# clock_jump.sh - serve's wall clock jumps forward one hour, then back (libfaketime; the
# monotonic clock is left alone, as a real step leaves it). SLAs p2 30m, p1 2h: the forward
# jump makes every open alert due for P2, once, and none for P1; the backward jump
# escalates nothing and repeats nothing. After each jump new failures are detected.
# Figures: time from each jump to the next failures detected. Skipped without libfaketime.
. "$(dirname "$0")/../lib.bash"

FTLIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
[ -n "$FTLIB" ] || skip clock_jump "libfaketime is not installed (apt-get install libfaketime)"
FT=$T/faketime
echo "+0" >"$FT"
SRC=$(pg_newdb swfclock)
src_init "$SRC"
STORE=$T/store.db
write_cfg "$T/cfg.yaml" "sqlite://$STORE" "$SRC"
sed -i 's/sla: { p2: 1s, p1: 2s, p0: 3s }/sla: { p2: 30m, p1: 2h, p0: 4h }/' "$T/cfg.yaml"
LD_PRELOAD=$FTLIB FAKETIME_TIMESTAMP_FILE=$FT FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" sw_start serve serve -c "$T/cfg.yaml"
pid=$SW_PID
add_failed "$SRC" 1 50
wait_eq 20 "alerts before the jumps" 50 sq sqlite "$STORE" "SELECT count(*) FROM alerts"
expect_eq "$(sq sqlite "$STORE" "SELECT count(*) FROM alerts WHERE state > 0")" 0 "nothing due yet"

# +1 h
echo "+3600" >"$FT"
t0=$(now_ms)
add_failed "$SRC" 51 100
wait_ms 30 alerts_are sqlite "$STORE" 100 >/dev/null || fail "failures detected after +1h"
fwd_ms=$(($(now_ms) - t0))
wait_eq 20 "every alert at P2 after +1h" 100 sq sqlite "$STORE" "SELECT count(*) FROM alerts WHERE state = 1"

# back by 1 h
echo "+0" >"$FT"
t0=$(now_ms)
add_failed "$SRC" 101 150
wait_ms 30 alerts_are sqlite "$STORE" 150 >/dev/null || fail "failures detected after -1h"
back_ms=$(($(now_ms) - t0))
sleep 3
expect_eq "$(sq sqlite "$STORE" "SELECT state || ':' || count(*) FROM alerts GROUP BY state ORDER BY state" | tr '\n' ' ')" \
  "0:50 1:100 " "after -1h: the new ones INITIATED, the others still P2, none P1"
check_store sqlite "$STORE" "$SRC" 150 0
grep -q 'clock stepped back' "$T/serve.log" && ok "the backward step was noticed" || fail "no 'clock stepped back' line"
log "FIGURES clock_jump forward_detect_ms=$fwd_ms back_detect_ms=$back_ms"
stop_ok "$pid"
result clock_jump "wall clock +1 h, then -1 h (libfaketime)" "$back_ms" \
  "detection ${fwd_ms} ms after +1h, ${back_ms} ms after -1h; P2 once for all, no P1"
finish
