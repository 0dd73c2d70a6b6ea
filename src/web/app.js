/*
 * app.js - the stepwatch dashboard. Plain JS, no build step, no external resources.
 *
 * Every string that comes from the API reaches the page as a text node (el() below);
 * nothing is ever assigned to innerHTML. The page refreshes every 5 s while the tab is
 * visible. A 401 shows a form for a bearer token, kept in sessionStorage.
 */
"use strict";

(function () {
  const REFRESH_MS = 5000;
  const TOKEN_KEY = "stepwatch.token";
  const OPEN_STATES = ["INITIATED", "ESCALATION_P2", "ESCALATION_P1", "ESCALATION_P0"];
  const LEVEL_SHORT = {
    INITIATED: "NEW", ESCALATION_P2: "P2", ESCALATION_P1: "P1", ESCALATION_P0: "P0",
    P2: "P2", P1: "P1", P0: "P0", RESOLVED: "RESOLVED", ABANDONED: "ABANDONED",
  };
  let timer = null;
  let needToken = false;
  let inFlight = false;

  const $ = (id) => document.getElementById(id);

  /* el("td", {class: "x", data: {k: v}}, "text", node, ...): strings become text nodes. */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "data") for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
      else if (k === "class") e.className = v;
      else if (k === "title") e.title = String(v);
      else e.setAttribute(k, String(v));
    }
    for (const kid of kids) {
      if (kid === undefined || kid === null) continue;
      e.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  function replaceKids(node, kids) {
    while (node.firstChild) node.removeChild(node.firstChild);
    for (const k of kids) node.appendChild(k);
  }

  function emptyRow(cols, text) {
    return el("tr", { class: "empty" }, el("td", { colspan: cols }, text));
  }

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  /* GET path; resolves to parsed JSON (or text), rejects with HttpError. */
  async function get(path, asText) {
    const headers = { Accept: asText ? "text/plain" : "application/json" };
    const t = token();
    if (t) headers.Authorization = "Bearer " + t;
    const r = await fetch(path, { headers, cache: "no-store", credentials: "omit" });
    if (r.status === 401) {
      showAuth(t ? "The token was refused (401)." : "This stepwatch needs a token (the API answered 401).");
      throw new HttpError(401, "unauthorized");
    }
    const body = asText ? await r.text() : await r.json().catch(() => null);
    if (!r.ok && !(path === "/readyz" && r.status === 503)) {
      const msg = body && body.error && body.error.message ? body.error.message : "HTTP " + r.status;
      throw new HttpError(r.status, msg);
    }
    return body;
  }

  /* ---- formatting ------------------------------------------------------------------- */

  function ms(ts) {
    const v = Date.parse(ts);
    return Number.isNaN(v) ? null : v;
  }

  function dur(s) {
    if (s === null || s === undefined || Number.isNaN(s)) return "–";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }

  // The server's clock minus this browser's (from /readyz "now"): ages and the "last 24 h"
  // window are on the clock the data was stamped with (the demo's runs compressed).
  let skew = 0;
  function serverNow() {
    return Date.now() + skew;
  }

  function age(ts) {
    const v = ms(ts);
    return v === null ? "–" : dur((serverNow() - v) / 1000);
  }

  function pct(x) {
    return typeof x === "number" && Number.isFinite(x) ? (x * 100).toFixed(1) + "%" : "–";
  }

  function badge(state) {
    const s = String(state || "");
    return el("span", { class: "badge lvl-" + s.replace(/[^A-Za-z0-9_]/g, "") }, LEVEL_SHORT[s] || s || "–");
  }

  /* An incident's level: a state name ("ESCALATION_P1") or a level name ("P1"). */
  function incidentLevelState(level) {
    if (level && /^P[012]$/.test(level)) return "ESCALATION_" + level;
    return OPEN_STATES.includes(level) ? level : "INITIATED";
  }

  const SEVERITY = { ESCALATION_P0: 0, ESCALATION_P1: 1, ESCALATION_P2: 2, INITIATED: 3 };

  function groupKey(inc) {
    const parts = [inc.workflow, inc.step, inc.rule].filter((x) => x !== null && x !== undefined);
    let key = parts.join(" / ");
    const labels = inc.labels && typeof inc.labels === "object" ? inc.labels : {};
    const lk = Object.keys(labels).sort();
    if (lk.length) key += " · " + lk.map((k) => k + "=" + labels[k]).join(", ");
    return key;
  }

  function iso(d) {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /* ---- sections --------------------------------------------------------------------- */

  function renderCounts(metricsText, incidents) {
    const counts = {};
    for (const line of String(metricsText || "").split("\n")) {
      const m = /^stepwatch_alerts\{state="([A-Z0-9_]+)"\} ([0-9.eE+]+)$/.exec(line);
      if (m) counts[m[1]] = Number(m[2]);
    }
    for (const s of OPEN_STATES) {
      const n = counts[s] || 0;
      const node = $("count-" + s);
      node.textContent = String(n);
      node.dataset.count = String(n);
      node.parentNode.classList.toggle("zero", n === 0);
    }
    const ni = incidents.length;
    $("count-incidents").textContent = String(ni);
    $("count-incidents").dataset.count = String(ni);
    $("count-incidents").parentNode.classList.toggle("zero", ni === 0);
  }

  function renderIncidents(page) {
    const items = ((page && page.items) || []).slice();
    /* the worst first, then the biggest */
    items.sort((x, y) => SEVERITY[incidentLevelState(x.level)] - SEVERITY[incidentLevelState(y.level)] ||
      (y.open_alerts || 0) - (x.open_alerts || 0));
    const rows = items.map((inc) => {
      const key = groupKey(inc);
      return el("tr", { class: "lvl-row lvl-" + incidentLevelState(inc.level), data: { incidentId: inc.id } },
        el("td", null, badge(incidentLevelState(inc.level))),
        el("td", { class: "cause", data: { groupKey: key }, title: key }, key),
        el("td", { class: "num strong" }, inc.open_alerts),
        el("td", { class: "num" }, inc.total_alerts),
        el("td", { class: "num" }, inc.affected_users),
        el("td", null, inc.acked_by ? el("span", { class: "ack" }, "✓ " + inc.acked_by) : el("span", { class: "muted" }, "no")),
        el("td", { class: "num", title: inc.opened_at }, age(inc.opened_at)));
    });
    replaceKids($("incidents-body"), rows.length ? rows : [emptyRow(7, "No open incidents.")]);
    $("incidents-note").textContent = page && page.next_cursor ? "(newest 100)" : "";
    return items;
  }

  function renderAlerts(page) {
    const items = (page && page.items) || [];
    const rows = items.map((a) =>
      el("tr", { class: "lvl-row lvl-" + a.state, data: { alertId: a.id } },
        el("td", null, badge(a.state)),
        el("td", null, a.workflow),
        el("td", null, a.step),
        el("td", { class: "mono" }, a.instance_id),
        el("td", { class: "mono" }, a.user_id),
        el("td", { class: "err", title: a.error }, a.error === null || a.error === undefined ? "–" : a.error),
        el("td", { class: "muted" }, a.rule),
        el("td", { class: "num", title: a.occurred_at }, age(a.occurred_at))));
    replaceKids($("alerts-body"), rows.length ? rows : [emptyRow(8, "No open alerts.")]);
    $("alerts-note").textContent = items.length ? "(" + items.length + (page.next_cursor ? "+" : "") + ")" : "";
  }

  /* The latest state changes, derived from the newest alerts (any state). */
  function renderHistory(page) {
    const ev = [];
    for (const a of (page && page.items) || []) {
      const what = a.workflow + " / " + a.step + " #" + a.instance_id;
      if (a.opened_at) ev.push({ at: a.opened_at, event: a.reopen_of ? "reopened" : "opened", state: "INITIATED", a, what, detail: a.error || "" });
      if (/^ESCALATION_/.test(a.state) && a.updated_at)
        ev.push({ at: a.updated_at, event: "escalated", state: a.state, a, what, detail: "to " + LEVEL_SHORT[a.state] });
      if (a.acked_at) ev.push({ at: a.acked_at, event: "acked", state: "ack", a, what, detail: "by " + (a.acked_by || "?") });
      if (a.resolved_at)
        ev.push({ at: a.resolved_at, event: a.state === "ABANDONED" ? "abandoned" : "resolved", state: a.state, a, what, detail: a.resolved_by ? "by " + a.resolved_by : "" });
    }
    ev.sort((x, y) => (ms(y.at) || 0) - (ms(x.at) || 0));
    const rows = ev.slice(0, 15).map((e) =>
      el("tr", { data: { alertId: e.a.id, event: e.event } },
        el("td", { class: "num", title: e.at }, age(e.at)),
        el("td", null, el("span", { class: "ev ev-" + e.event }, e.event)),
        el("td", { class: "mono" }, "#" + e.a.id + " ", el("span", { class: "muted" }, e.what)),
        el("td", { class: "err" }, e.detail)));
    replaceKids($("history-body"), rows.length ? rows : [emptyRow(4, "No alerts yet.")]);
  }

  /* The newest deliveries of the outbox: one row per message and receiver. */
  function renderNotifications(page) {
    const items = (page && page.items) || [];
    const rows = items.map((n) => {
      const when = n.delivered_at || n.last_attempt_at || n.created_at;
      const cls = n.status === "sent" ? "ok" : n.status === "failed" ? "bad" : "warn";
      return el("tr", { data: { notificationId: n.id, receiver: n.receiver, status: n.status } },
        el("td", { class: "num", title: when }, age(when)),
        el("td", { class: "mono" }, n.receiver),
        el("td", null, el("span", { class: "ev ev-" + n.event }, n.event)),
        el("td", { class: "mono" }, "#" + n.incident_id),
        el("td", null, n.summary || ""),
        el("td", null, el("span", { class: "pill " + cls, title: n.idempotency_key }, n.status)),
        el("td", { class: "num" }, String(n.attempts)),
        el("td", { class: "err" }, n.last_error || ""));
    });
    replaceKids($("notifications-body"), rows.length ? rows : [emptyRow(8, "No notifications yet.")]);
  }

  function renderHealth(r) {
    const rows = [];
    let bad = 0;
    if (r && r.store) {
      if (!r.store.ok) bad++;
      rows.push(el("tr", { data: { component: "store", ok: r.store.ok } },
        el("td", null, "store"),
        el("td", null, el("span", { class: "pill " + (r.store.ok ? "ok" : "bad") }, r.store.ok ? "ok" : "down")),
        el("td", { class: "err" }, r.store.message || ""), el("td", { class: "num" }, "")));
    }
    for (const c of (r && r.components) || []) {
      if (!c.ok) bad++;
      rows.push(el("tr", { data: { component: c.name, ok: c.ok } },
        el("td", { class: "mono" }, c.name),
        el("td", null, el("span", { class: "pill " + (c.ok ? "ok" : "bad") }, c.ok ? "ok" : "failing")),
        el("td", { class: "err" }, c.message || ""),
        el("td", { class: "num", title: c.since }, age(c.since))));
    }
    replaceKids($("health-body"), rows.length ? rows : [emptyRow(4, "No components.")]);
    const s = $("health-summary");
    s.textContent = bad ? bad + " failing" : "ok";
    s.parentNode.classList.toggle("bad", bad > 0);
    s.parentNode.classList.toggle("good", bad === 0);
  }

  function unavailable(node, err) {
    const notBuilt = err && err.status === 501;
    replaceKids(node, [el("p", { class: notBuilt ? "na" : "na error", data: { status: err ? err.status || "" : "" } },
      notBuilt ? "Not available in this build." : "Unavailable: " + (err ? err.message : "?"))]);
  }

  function needWorkflow(node) {
    replaceKids(node, [el("p", { class: "na" }, "Pick a workflow above.")]);
  }

  function renderFunnel(f) {
    const steps = (f && f.steps) || [];
    if (!steps.length) return replaceKids($("funnel"), [el("p", { class: "na" }, "No instances in this window.")]);
    const max = Math.max(1, ...steps.map((s) => s.entered || 0));
    const rows = steps.map((s) => {
      const bar = el("span", { class: "bar" });
      bar.style.width = Math.round(((s.entered || 0) / max) * 100) + "%";
      const ok = el("span", { class: "bar ok" });
      ok.style.width = Math.round(((s.succeeded || 0) / max) * 100) + "%";
      return el("tr", { data: { step: s.step } },
        el("td", null, s.step),
        el("td", { class: "barcell" }, el("span", { class: "track" }, bar, ok)),
        el("td", { class: "num" }, s.entered), el("td", { class: "num" }, s.succeeded),
        el("td", { class: "num bad-t" }, s.failed), el("td", { class: "num warn-t" }, s.stuck),
        el("td", { class: "num muted" }, s.abandoned), el("td", { class: "num strong" }, pct(s.conversion)));
    });
    replaceKids($("funnel"), [el("table", { class: "grid" },
      el("thead", null, el("tr", null, ...["step", "", "entered", "ok", "failed", "stuck", "abandoned", "conv."].map((h, i) => el("th", { class: i >= 2 ? "num" : "" }, h)))),
      el("tbody", null, ...rows))]);
  }

  function renderTat(t) {
    const cells = [["count", num(t.count)], ["p50", dur(t.p50)], ["p90", dur(t.p90)], ["p99", dur(t.p99)], ["max", dur(t.max)], ["within SLA", pct(t.within_sla)]];
    replaceKids($("tat"), [el("div", { class: "stats" }, ...cells.map(([k, v]) => stat(k, v)))]);
  }

  function stat(key, value, cls) {
    return el("div", { class: "stat" + (cls ? " " + cls : ""), data: { key } },
      el("span", { class: "n" }, value), el("span", { class: "l" }, key));
  }

  function num(x) {
    return typeof x === "number" && Number.isFinite(x) ? String(x) : "–";
  }

  /* {segments: [{by, value, started, completed, rate, flagged, p_value}]}; flagged rows
   * (significantly below the rest of the workflow) in red. */
  function renderSegments(r) {
    const segs = (r && Array.isArray(r.segments) && r.segments) || [];
    if (!segs.length) return replaceKids($("segments"), [el("p", { class: "na" }, "No segment data in this window (the workflow may list no segments).")]);
    const rows = segs.map((g) => {
      const bar = el("span", { class: "bar ok" });
      bar.style.width = Math.round(Math.max(0, Math.min(1, g.rate || 0)) * 100) + "%";
      return el("tr", { class: g.flagged ? "flagged" : "", data: { segment: String(g.by) + "=" + String(g.value) } },
        el("td", { class: "mono" }, g.by), el("td", null, g.value === null || g.value === undefined ? "(none)" : g.value),
        el("td", { class: "barcell" }, el("span", { class: "track" }, bar)),
        el("td", { class: "num" }, num(g.started)), el("td", { class: "num" }, num(g.completed)),
        el("td", { class: "num strong" }, pct(g.rate)),
        el("td", null, g.flagged ? el("span", { class: "pill bad" }, "below") : ""));
    });
    replaceKids($("segments"), [el("table", { class: "grid" },
      el("thead", null, el("tr", null, ...["by", "value", "", "started", "done", "rate", ""].map((h, i) => el("th", { class: i >= 3 && i <= 5 ? "num" : "" }, h)))),
      el("tbody", null, ...rows))]);
  }

  /* SLA adherence: the TAT share within the workflow's SLA, and the alert figures
   * (opened, resolved, escalations per level, MTTA, MTTR). */
  function renderSla(tat, alerts, alertsErr) {
    const kids = [];
    if (tat && typeof tat.within_sla === "number") {
      const w = tat.within_sla;
      kids.push(el("div", { class: "stats" }, stat("TAT within SLA", pct(w), w >= 0.95 ? "good" : w >= 0.8 ? "warn" : "bad")));
    }
    if (alerts) {
      const esc = alerts.escalations || alerts.reached || {};
      kids.push(el("div", { class: "stats" },
        stat("opened", num(alerts.opened)), stat("auto-resolved", num(alerts.auto_resolved)),
        stat("manually resolved", num(alerts.manually_resolved)), stat("abandoned", num(alerts.abandoned)),
        stat("self-recovery", pct(alerts.self_recovery_rate)),
        stat("MTTA", dur(alerts.mtta_seconds === undefined ? alerts.mtta : alerts.mtta_seconds)),
        stat("MTTR", dur(alerts.mttr_seconds === undefined ? alerts.mttr : alerts.mttr_seconds))));
      kids.push(el("div", { class: "stats" }, stat("reached P2", num(esc.P2), "p2"), stat("reached P1", num(esc.P1), "p1"), stat("reached P0", num(esc.P0), "p0")));
    } else if (alertsErr) {
      const na = el("div");
      unavailable(na, alertsErr);
      kids.push(...na.childNodes);
    }
    replaceKids($("sla"), kids.length ? kids : [el("p", { class: "na" }, "No data.")]);
  }

  async function refreshStats(workflow) {
    const now = new Date(serverNow());
    const range = "from=" + encodeURIComponent(iso(new Date(now - 86400000))) + "&to=" + encodeURIComponent(iso(now));
    const wq = "workflow=" + encodeURIComponent(workflow) + "&" + range;
    const by = $("segment-by").value.trim();
    const ok = (v) => ({ v });
    const bad = (e) => ({ e });
    const none = Promise.resolve({});
    const [funnel, tat, segs, alerts] = await Promise.all([
      workflow ? get("/api/v1/stats/funnel?" + wq).then(ok, bad) : none,
      workflow ? get("/api/v1/stats/tat?" + wq).then(ok, bad) : none,
      workflow ? get("/api/v1/stats/segments?" + wq + (by ? "&by=" + encodeURIComponent(by) : "")).then(ok, bad) : none,
      get("/api/v1/stats/alerts?" + range).then(ok, bad),
    ]);
    for (const [r, node, render] of [[funnel, "funnel", renderFunnel], [tat, "tat", renderTat], [segs, "segments", renderSegments]]) {
      if (!workflow) needWorkflow($(node));
      else if (r.e) unavailable($(node), r.e);
      else render(r.v);
    }
    renderSla(tat.v, alerts.v, alerts.e);
  }

  function updateWorkflows(lists) {
    const seen = new Set();
    for (const l of lists) for (const x of l) if (x && typeof x.workflow === "string") seen.add(x.workflow);
    const dl = $("workflows");
    replaceKids(dl, [...seen].sort().map((w) => el("option", { value: w })));
    const input = $("workflow");
    if (!input.value && seen.size && !input.dataset.touched) input.value = [...seen].sort()[0];
  }

  function setStatus(state, text) {
    const s = $("status");
    s.dataset.state = state;
    s.textContent = text;
  }

  async function refresh() {
    if (inFlight || needToken) return;
    inFlight = true;
    try {
      const [incidents, open, recent, metrics, ready, notes] = await Promise.all([
        get("/api/v1/incidents?open=true&limit=100"),
        get("/api/v1/alerts?open=true&limit=50"),
        get("/api/v1/alerts?limit=50"),
        get("/metrics", true).catch(() => ""),
        get("/readyz").catch((e) => ({ store: { ok: false, message: e.message }, components: [] })),
        get("/api/v1/notifications?limit=20").catch(() => ({ items: [] })),
      ]);
      const sn = ready && typeof ready.now === "string" ? Date.parse(ready.now) : NaN;
      if (!Number.isNaN(sn)) skew = sn - Date.now();
      const inc = renderIncidents(incidents);
      renderCounts(metrics, inc);
      renderAlerts(open);
      renderHistory(recent);
      renderHealth(ready);
      renderNotifications(notes);
      updateWorkflows([inc, open.items || [], recent.items || []]);
      await refreshStats($("workflow").value.trim());
      setStatus("ok", "updated " + new Date().toLocaleTimeString());
      document.body.dataset.loaded = "true";
    } catch (e) {
      if (!(e instanceof HttpError && e.status === 401)) setStatus("error", "refresh failed: " + e.message);
    } finally {
      inFlight = false;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (document.hidden) {
      setStatus("paused", "paused (tab hidden)");
      return;
    }
    timer = setTimeout(async () => {
      await refresh();
      schedule();
    }, REFRESH_MS);
  }

  function showAuth(reason) {
    needToken = true;
    $("auth-reason").textContent = reason;
    $("auth").hidden = false;
    setStatus("auth", "token needed");
    $("token").focus();
  }

  function init() {
    $("auth").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = $("token").value.trim();
      try { if (t) sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* storage off */ }
      $("token").value = "";
      $("auth").hidden = true;
      needToken = false;
      refresh().then(schedule);
    });
    $("token-forget").addEventListener("click", () => {
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off */ }
      $("token").value = "";
    });
    $("token-button").addEventListener("click", () => {
      $("auth").hidden = !$("auth").hidden;
      if (!$("auth").hidden) $("token").focus();
    });
    $("workflow").addEventListener("change", () => { $("workflow").dataset.touched = "1"; refresh(); });
    $("segment-by").addEventListener("change", () => refresh());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) refresh().then(schedule);
      else schedule();
    });
    refresh().then(schedule);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
