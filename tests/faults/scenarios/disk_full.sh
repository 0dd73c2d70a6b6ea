#!/usr/bin/env bash
# disk_full.sh - the SQLite store's file system fills up (a small tmpfs the test mounts;
# skipped with a message where mounting is not allowed) while failures arrive: runs fail and
# say so, nothing half-written is visible, and the log never counts alerts that were rolled
# back (the sum of opened= over the log equals the alerts in the store, during the fault and
# after). Space freed: every failure detected. Figure: time from the space freed to them.
. "$(dirname "$0")/../lib.bash"

MNT=$T/small
mkdir -p "$MNT"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=3m tmpfs "$MNT" 2>"$T/mount.err"; then
  skip disk_full "cannot mount a tmpfs here ($(head -c 200 "$T/mount.err" 2>/dev/null || echo 'not root'))"
fi
FAULT_MOUNTS+=("$MNT")
STORE=$MNT/store.db
SRC=$(pg_newdb swfdisk)
src_init "$SRC"
write_cfg "$T/cfg.yaml" "sqlite://$STORE" "$SRC"
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
add_failed "$SRC" 1 100
wait_eq 20 "alerts before the fault" 100 sq sqlite "$STORE" "SELECT count(*) FROM alerts"

dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1 || true
fails_before=$(grep -c 'msg="task failed"' "$T/serve.log" || true)
n=100
for _ in $(seq 10); do  # until a run fails for want of space (the WAL may have room left)
  add_failed "$SRC" $((n + 1)) $((n + 300))
  n=$((n + 300))
  sleep 1
  [ "$(grep -c 'msg="task failed"' "$T/serve.log" || true)" -gt "$fails_before" ] && break
done
if grep -qi 'msg="task failed".*\(full\|disk\|space\)' "$T/serve.log"; then
  ok "runs fail for want of space, and say so"
else
  fail "no run failed with a disk-full error"
fi
during=$(sq sqlite "$STORE" "SELECT count(*) FROM alerts")
expect_eq "$(opened_logged "$T/serve.log")" "$during" "opened= in the log = alerts in the store, during the fault"

rm -f "$MNT/fill"
rec_ms=$(wait_ms 60 alerts_are sqlite "$STORE" "$n") || fail "every failure detected once space is back"
wait_ms 30 all_at_p0 sqlite "$STORE" >/dev/null || fail "every alert reached P0"
check_store sqlite "$STORE" "$SRC" "$n" 0
expect_eq "$(opened_logged "$T/serve.log")" "$n" "opened= in the log = alerts in the store, after"
log "FIGURES disk_full alerts=$n stored_during_fault=$during recovered_ms=$rec_ms"
stop_ok "$pid"
result disk_full "SQLite store on a full 3 MB tmpfs, $((n - 100)) failures meanwhile" "$rec_ms" \
  "all $n alerts ${rec_ms} ms after space freed; log counts = store ($during during the fault)"
finish
