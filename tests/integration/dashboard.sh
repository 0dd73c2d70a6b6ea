#!/usr/bin/env bash
# dashboard.sh - the dashboard in a real headless Chromium against the real binary: the page,
# its script and style are served with their types and security headers; the rendered DOM
# holds the open incidents (by group key), the alert counts per level, the newest alerts,
# history and health; a hostile error text shows as text (never markup, never run); with
# tokens configured the page asks for one; it reloads its data every 5 s by itself. Leaves a
# screenshot (checked to be a PNG).
. "$(dirname "$0")/lib.bash"

CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { fail "chromium is not installed (scripts/install-deps installs it)"; finish; }
# chrome_run URL ARGS...: headless Chromium with no network of its own, 5 s of virtual time
chrome_run() {
  local url=$1
  shift
  timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
    --virtual-time-budget=5000 "$@" "$url" 2>>"$T/chrome.log"
}

SRC=$(pg_newdb swdash)
q "$SRC" "CREATE TABLE loan_steps (application_id bigint, user_id text, step text, status text,
    error_code text, started_at timestamptz, finished_at timestamptz, channel text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (application_id, step))"
write_cfg() { # FILE STORE [TOKENS_YAML]
  cat >"$1" <<YAML
store: sqlite://$2
http:
  listen: "127.0.0.1:0"
$3
sources:
  app: { url: "$(pg_reader "$SRC")" }
workflows:
  loan:
    source: app
    poll: 100ms
    steps_query: |
      SELECT application_id AS instance_id, user_id, step, status, error_code AS error,
             started_at, finished_at, updated_at, channel FROM loan_steps
       WHERE updated_at > :since ORDER BY updated_at
    steps: [kyc, bureau_pull, esign]
    segments: [channel]
    defaults:
      sla: { p2: 5m, p1: 30m, p0: 2h }
      group_by: [error]
YAML
}
write_cfg "$T/cfg.yaml" "$T/store.db" ""
sw_start serve serve -c "$T/cfg.yaml"; pid=$SW_PID
wait_eq 10 "listening" 1 grep -c "msg=listening" "$T/serve.log"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve.log" | head -1)
base="http://127.0.0.1:$port"

# the page and its assets: types, caching and security headers
curl -s -D "$T/h_page" -o "$T/page.html" "$base/"
grep -qi '^content-type: text/html; charset=utf-8' "$T/h_page" && ok "page type" || fail "page type: $(cat "$T/h_page")"
grep -qi "^content-security-policy: default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'" "$T/h_page" \
  && ok "page CSP" || fail "page CSP: $(cat "$T/h_page")"
grep -qi '^x-content-type-options: nosniff' "$T/h_page" && ok "page nosniff" || fail "page nosniff"
grep -qi '^cache-control: no-cache' "$T/h_page" && ok "page no-cache" || fail "page no-cache"
grep -q 'src="/app.js"' "$T/page.html" && ok "page loads /app.js" || fail "page body"
if grep -Eiq '(src|href)="(https?:)?//' "$T/page.html"; then fail "page loads an external resource"; else ok "no external resources"; fi
curl -s -D "$T/h_js" -o /dev/null "$base/app.js"
grep -qi '^content-type: application/javascript' "$T/h_js" && ok "script type" || fail "script type: $(cat "$T/h_js")"
curl -s -D "$T/h_css" -o /dev/null "$base/app.css"
grep -qi '^content-type: text/css' "$T/h_css" && ok "style type" || fail "style type: $(cat "$T/h_css")"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/app.js")" 405 "POST /app.js"

# failures at every level, one incident per error; one error text is hostile markup
HOSTILE="<script>document.title='pwned'</script><b id=\"xss\">x</b>"
q "$SRC" "INSERT INTO loan_steps (application_id, user_id, step, status, error_code, started_at, finished_at, channel)
  SELECT i, 'u' || i, 'kyc', 'FAILED', 'KYC_DOWN', now() - m * interval '1 minute',
         now() - m * interval '1 minute', 'web'
    FROM generate_series(1, 7) i, LATERAL (SELECT CASE WHEN i <= 4 THEN 1 ELSE 10 END) x(m);
  INSERT INTO loan_steps (application_id, user_id, step, status, error_code, started_at, finished_at, channel)
  SELECT i, 'u' || i, s.step, s.status, s.err, now() - interval '45 minutes', now() - interval '45 minutes', 'app'
    FROM generate_series(11, 13) i,
         (VALUES ('kyc', 'SUCCESS', NULL), ('bureau_pull', 'FAILED', 'BUREAU_TIMEOUT')) s(step, status, err);
  INSERT INTO loan_steps (application_id, user_id, step, status, error_code, started_at, finished_at, channel)
  SELECT i, 'u' || i, s.step, s.status, s.err, now() - interval '3 hours', now() - interval '3 hours', 'app'
    FROM generate_series(21, 22) i,
         (VALUES ('kyc', 'SUCCESS', NULL), ('bureau_pull', 'SUCCESS', NULL), ('esign', 'FAILED', 'ESIGN_REJECTED')) s(step, status, err);
  INSERT INTO loan_steps (application_id, user_id, step, status, error_code, started_at, finished_at, channel)
  VALUES (31, 'u31', 'kyc', 'FAILED', \$h\$$HOSTILE\$h\$, now(), now(), 'web')"
wait_eq 15 "alerts by state (INITIATED, P2, P1, P0)" "0|5 1|3 2|3 3|2" \
  bash -c "sqlite3 -batch -cmd .timeout\ 10000 '$T/store.db' 'SELECT state, count(*) FROM alerts GROUP BY state ORDER BY state' | paste -sd' '"
wait_eq 10 "open incidents" 4 qs "$T/store.db" "SELECT count(*) FROM incidents WHERE state = 'OPEN'"
# a delivery that failed, as the notifier records one (no receiver is configured here)
qs "$T/store.db" "INSERT INTO outbox (idem_key, receiver, incident_id, event, payload, created_at,
    next_attempt_at, attempts, status, last_status, last_error)
  SELECT 'sw-' || min(id) || '-1-support', 'support', min(id), 'opened',
    '{\"summary\": \"+40 users <b id=n>since</b>\"}', 1, 1, 3, 'failed', 400, 'HTTP 400: <i>no</i>'
    FROM incidents"

# what a browser renders
chrome_run "$base/" --dump-dom >"$T/dom.html" || fail "chromium --dump-dom: $(tail -5 "$T/chrome.log")"
grep -q 'data-loaded="true"' "$T/dom.html" && ok "page loaded its data" || fail "page did not load: $(grep -o '<span id="status"[^<]*' "$T/dom.html")"
for want in INITIATED:5 ESCALATION_P2:3 ESCALATION_P1:3 ESCALATION_P0:2 incidents:4; do
  grep -q "id=\"count-${want%%:*}\" data-count=\"${want#*:}\"" "$T/dom.html" \
    && ok "count ${want%%:*} = ${want#*:}" || fail "count ${want%%:*}: $(grep -o "id=\"count-${want%%:*}\"[^>]*>[^<]*" "$T/dom.html")"
done
for key in "loan / kyc / failed · error=KYC_DOWN" "loan / bureau_pull / failed · error=BUREAU_TIMEOUT" \
           "loan / esign / failed · error=ESIGN_REJECTED"; do
  grep -qF "data-group-key=\"$key\"" "$T/dom.html" && ok "incident '$key'" || fail "incident '$key' not rendered"
done
expect_eq "$(grep -o 'data-incident-id="[0-9]*"' "$T/dom.html" | sort -u | wc -l)" 4 "incident rows"
expect_eq "$(grep -o 'data-alert-id="[0-9]*" class\|<tr class="lvl-row lvl-[A-Z_0-9]*" data-alert-id' "$T/dom.html" | wc -l)" 13 "open alert rows"
grep -q 'data-component="workflow:loan" data-ok="true"' "$T/dom.html" && ok "health row" || fail "health row missing"
grep -q 'data-event="opened"' "$T/dom.html" && ok "history rows" || fail "history rows missing"
grep -q 'data-event="escalated"' "$T/dom.html" && ok "escalations in history" || fail "no escalation in history"
grep -q 'data-receiver="support" data-status="failed"' "$T/dom.html" && ok "notifications panel row" \
  || fail "notifications panel row missing"
grep -qF 'HTTP 400: &lt;i&gt;no&lt;/i&gt;' "$T/dom.html" && ok "notification error shown as text" \
  || fail "notification error not shown escaped"
# the stats panels: real data when the route answers 200, the graceful note when 501
panel() { sed -n "s/.*\(<section class=\"panel\" id=\"panel-$1\">.*\)/\1/p" "$T/dom.html" | sed 's/<\/section>.*//'; }
for p in funnel:'data-step="kyc"' tat:'data-key="p90"' segments:'data-segment="channel=web"' sla:'data-key="opened"'; do
  name=${p%%:*} want=${p#*:} route=${p%%:*}
  [ "$name" = sla ] && route=alerts
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/stats/$route?workflow=loan")
  [ "$name" = sla ] && code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/stats/alerts")
  if [ "$code" = 501 ]; then
    grep -q 'Not available in this build' <<<"$(panel "$name")" && ok "panel $name: not available (501)" \
      || fail "panel $name (501): $(panel "$name")"
  elif [ "$code" = 200 ]; then
    grep -qF "$want" <<<"$(panel "$name")" && ok "panel $name: data" || fail "panel $name (200): $(panel "$name")"
  else
    fail "GET /api/v1/stats/$route: $code"
  fi
done
# hostile strings: text, not markup, not run
grep -qF "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;b id=\"xss\"&gt;x&lt;/b&gt;" "$T/dom.html" \
  && ok "hostile error shown as text" || fail "hostile error text not found escaped"
if grep -qF '<b id="xss">' "$T/dom.html"; then fail "hostile markup became an element"; else ok "no injected element"; fi
if grep -q "<title>pwned" "$T/dom.html"; then fail "hostile script ran"; else ok "hostile script did not run"; fi
grep -q '<title>stepwatch</title>' "$T/dom.html" && ok "title intact" || fail "title changed"

# a screenshot, kept for a look (KEEP_T=1) and for docs/dashboard.png
chrome_run "$base/" --screenshot="$T/dash.png" --window-size=1400,1000 >/dev/null || fail "chromium --screenshot"
if [ -s "$T/dash.png" ] && [ "$(head -c 8 "$T/dash.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  ok "screenshot is a PNG ($(stat -c %s "$T/dash.png") bytes)"
else
  fail "screenshot missing or not a PNG"
fi
[ -n "${DASH_PNG_OUT:-}" ] && cp "$T/dash.png" "$DASH_PNG_OUT"

# it refreshes by itself: 12 s of (virtual) time on the page fetch the incidents 3 times
before=$(grep -c 'path=/api/v1/incidents ' "$T/serve.log" || true)
chrome_run "$base/" --dump-dom --virtual-time-budget=12000 >/dev/null || fail "chromium (refresh)"
sleep 0.2
after=$(grep -c 'path=/api/v1/incidents ' "$T/serve.log" || true)
[ $((after - before)) -ge 3 ] && ok "auto-refresh ($((after - before)) loads in 12 s)" \
  || fail "auto-refresh: $((after - before)) loads in 12 s"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"

# with tokens configured the page asks for one (the API answers 401 without it)
write_cfg "$T/cfg-tok.yaml" "$T/store-tok.db" '  tokens:
    - { name: dash, token_env: SW_TOK_DASH, role: viewer }'
SW_TOK_DASH=dash-secret-token sw_start serve-tok serve -c "$T/cfg-tok.yaml"; pid=$SW_PID
wait_eq 10 "listening (tokens)" 1 grep -c "msg=listening" "$T/serve-tok.log"
port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/serve-tok.log" | head -1)
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" 200 "page needs no token"
chrome_run "http://127.0.0.1:$port/" --dump-dom >"$T/dom-tok.html" || fail "chromium --dump-dom (tokens)"
grep -q '<form id="auth" class="auth">' "$T/dom-tok.html" && ok "token form shown" || fail "token form: $(grep -o '<form id="auth"[^>]*>' "$T/dom-tok.html")"
grep -q 'data-state="auth"' "$T/dom-tok.html" && ok "status says a token is needed" || fail "status not auth"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM (tokens)"
finish
