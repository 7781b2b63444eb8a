/// The live dashboard served at `GET /dashboard`: plain HTML + JavaScript, no build step, embedded in the
/// binary so an installed service needs no resource files. It polls the read-only JSON endpoints of this
/// service (or of every service in `dashboard_services`, which allow any origin). No external resources:
/// charts are drawn on `<canvas>`; every value shown comes from the service's own endpoints. Paths are
/// relative (`health`, not `/health`) so the page also works behind a proxy that adds a path prefix.
/// Element ids and `data-*` attributes are stable: `scripts/dashboard_check` reads them. See docs/dashboard.md.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backbone dashboard</title>
<style>
:root {
  --bg: #f4f6f9; --panel: #ffffff; --ink: #1c2330; --muted: #667085; --line: #e3e7ee;
  --accent: #2563eb; --accent2: #0d9488; --ok: #15803d; --ok-bg: #dcfce7; --warn: #b45309; --warn-bg: #fef3c7;
  --bad: #b91c1c; --bad-bg: #fee2e2; --idle: #475569; --idle-bg: #e2e8f0;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; padding: 12px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 20px; font-weight: 650; }
header .sub { color: var(--muted); font-size: 13px; }
.spacer { flex: 1; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600;
  text-transform: uppercase; letter-spacing: .04em; background: var(--idle-bg); color: var(--idle); }
.badge[data-status="healthy"] { background: var(--ok-bg); color: var(--ok); }
.badge[data-status="degraded"] { background: var(--warn-bg); color: var(--warn); }
.badge[data-status="draining"] { background: var(--warn-bg); color: var(--warn); }
.badge[data-status="down"] { background: var(--bad-bg); color: var(--bad); }
.switch { display: inline-flex; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.switch button { border: 0; background: transparent; padding: 6px 14px; font: inherit; color: var(--muted); cursor: pointer; }
.switch button + button { border-left: 1px solid var(--line); }
.switch button[aria-pressed="true"] { background: var(--accent); color: #fff; }
main { padding: 18px 24px 28px; max-width: 1400px; margin: 0 auto; }
#alerts { margin-bottom: 14px; }
#alerts:empty { display: none; }
.alert { background: var(--bad-bg); color: var(--bad); border: 1px solid #fca5a5; border-radius: 8px;
  padding: 8px 12px; margin-bottom: 6px; font-weight: 500; }
.alert b { text-transform: uppercase; font-size: 12px; letter-spacing: .04em; margin-right: 8px; }
.notice { background: var(--idle-bg); color: var(--idle); border-radius: 8px; padding: 8px 12px; margin-bottom: 14px; }
.notice.down { background: var(--bad-bg); color: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: 12px; margin-bottom: 14px; }
.tile, .panel, .service-card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
.tile { padding: 12px 14px; min-width: 0; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.tile .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.tile .value small { font-size: 15px; color: var(--muted); font-weight: 500; }
.tile .hint { color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.meter { height: 5px; background: var(--line); border-radius: 3px; margin-top: 6px; overflow: hidden; }
.meter > div { height: 100%; width: 0; background: var(--accent); transition: width .3s; }
.grid2 { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 14px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: minmax(0, 1fr); } }
.panel { padding: 12px 14px; margin-bottom: 14px; min-width: 0; }
.panel h2 { margin: 0 0 6px; font-size: 14px; font-weight: 650; display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.panel h2 .now { margin-left: auto; font-weight: 500; color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
.legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; margin-bottom: 4px; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; border-radius: 2px; }
canvas.chart { width: 100%; height: 210px; display: block; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 4px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; width: 1%; white-space: nowrap; }
td.room { max-width: 0; width: 99%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.bar { height: 4px; background: var(--accent2); border-radius: 2px; margin-top: 2px; opacity: .6; }
.empty { color: var(--muted); padding: 8px 0; }
#events { list-style: none; margin: 0; padding: 0; max-height: 240px; overflow: auto;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
#events li { padding: 3px 0; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#events .t { color: var(--muted); margin-right: 8px; }
#events .e { color: var(--accent); margin-right: 8px; }
#cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 14px; }
.service-card { padding: 12px 14px; min-width: 0; }
.service-card[data-state="down"] { border-color: #fca5a5; background: #fff8f8; }
.service-card .head { display: flex; align-items: center; gap: 8px; margin-bottom: 2px; }
.service-card .name { font-size: 17px; font-weight: 650; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.service-card .self { font-size: 11px; color: var(--accent); border: 1px solid var(--accent); border-radius: 999px; padding: 0 7px; }
.service-card .head .badge { margin-left: auto; }
.service-card .url { color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.service-card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 10px 0 6px; }
.service-card dt { color: var(--muted); }
.service-card dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.service-card canvas { width: 100%; height: 48px; display: block; }
.service-card .down-msg { color: var(--bad); margin: 12px 0 4px; font-weight: 500; }
.service-card .alert { font-size: 12px; padding: 4px 8px; margin: 6px 0 0; }
.service-card a { color: var(--accent); font-size: 12px; text-decoration: none; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 0 0 18px; }
[hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1 id="service-name" data-value="">…</h1>
  <span id="status" class="badge" data-status="unknown">loading</span>
  <span class="sub" id="address"></span>
  <span class="spacer"></span>
  <span class="sub">uptime <b id="uptime" data-value="">–</b></span>
  <span class="sub" id="updated">not updated yet</span>
  <div class="switch" role="group" aria-label="View">
    <button type="button" id="view-self" aria-pressed="true">This service</button>
    <button type="button" id="view-all" aria-pressed="false">All services</button>
  </div>
</header>
<main>
  <div id="alerts" data-count="0"></div>

  <section id="self-view">
    <div id="self-error" class="notice down" hidden></div>
    <div class="tiles">
      <div class="tile"><div class="label">Connections</div>
        <div class="value"><span id="connections" data-value="">–</span> <small>/ <span id="max-connections" data-value="">–</span></small></div>
        <div class="meter"><div id="connections-meter"></div></div></div>
      <div class="tile"><div class="label">Peak connections</div>
        <div class="value" id="peak-connections" data-value="">–</div>
        <div class="hint">since start: <span id="total-connections" data-value="">–</span></div></div>
      <div class="tile"><div class="label">Rooms</div>
        <div class="value" id="rooms-total" data-value="">–</div>
        <div class="hint">subscriptions: <span id="subscriptions-total" data-value="">–</span></div></div>
      <div class="tile"><div class="label">Messages received</div>
        <div class="value" id="messages-total" data-value="">–</div>
        <div class="hint"><span id="rate-in" data-value="">–</span> /s now</div></div>
      <div class="tile"><div class="label">Deliveries</div>
        <div class="value" id="deliveries-total" data-value="">–</div>
        <div class="hint"><span id="rate-out" data-value="">–</span> /s now</div></div>
      <div class="tile"><div class="label">Events published</div>
        <div class="value" id="broadcasts-total" data-value="">–</div>
        <div class="hint"><span id="rate-broadcasts" data-value="">–</span> /s now</div></div>
    </div>

    <div class="grid2">
      <div>
        <div class="panel">
          <h2>Messages per second <span class="now" id="messages-now">–</span></h2>
          <div class="legend"><span><i style="background:#2563eb"></i>received</span><span><i style="background:#0d9488"></i>delivered</span><span id="chart-window"></span></div>
          <canvas class="chart" id="chart-messages" aria-label="Messages per second chart"></canvas>
        </div>
        <div class="panel">
          <h2>Latency <span class="now" id="latency-now">–</span></h2>
          <div class="legend"><span><i style="background:#9333ea"></i>message handling (ms)</span><span><i style="background:#ea580c"></i>connection upgrade (ms)</span><span id="latency-window"></span></div>
          <canvas class="chart" id="chart-latency" aria-label="Latency chart"></canvas>
        </div>
      </div>
      <div>
        <div class="panel">
          <h2>Rooms <span class="now" id="rooms-shown"></span></h2>
          <table><thead><tr><th>room</th><th class="num">subscribers</th></tr></thead>
            <tbody id="rooms"></tbody></table>
        </div>
        <div class="panel">
          <h2>Live events in <code>global</code> <span class="now" id="events-state" data-state="closed">connecting…</span></h2>
          <ul id="events"></ul>
        </div>
      </div>
    </div>
  </section>

  <section id="all-view" hidden>
    <div id="all-error" class="notice down" hidden></div>
    <div id="cards"></div>
  </section>
</main>
<footer>Polls every 2 s · read-only · <span id="footer-self"></span></footer>

<script src="client.js"></script>
<script>
'use strict';
const POLL_MS = 2000;            // refresh interval of every view
const WINDOW_S = 600;            // charts show at most the last ten minutes (history holds 120 × 5 s)
const TOP_ROOMS = 10;            // rooms listed, most subscribers first
const FETCH_TIMEOUT_MS = 1500;   // a service slower than this counts as down for that round
const MAX_EVENTS = 30;
const COLORS = { in: '#2563eb', out: '#0d9488', latency: '#9333ea', connect: '#ea580c' };
const $ = (id) => document.getElementById(id);

// ---------- formatting ----------
function fmtInt(n) { return n == null || isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'); }
function fmtRate(n) {
  if (n == null || isNaN(n)) return '–';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2).replace(/\.?0+$/, '') || '0';
}
function fmtMs(n) { return n == null || isNaN(n) ? '–' : (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(3)) + ' ms'; }
function fmtDuration(s) {
  if (s == null || isNaN(s)) return '–';
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
  if (d) return d + 'd ' + h + 'h ' + m + 'm';
  if (h) return h + 'h ' + m + 'm';
  if (m) return m + 'm ' + sec + 's';
  return sec + 's';
}
function fmtClock(date) { return date.toTimeString().slice(0, 8); }
function setValue(id, value, text) {
  const el = typeof id === 'string' ? $(id) : id;
  el.dataset.value = value == null ? '' : String(value);
  el.textContent = text;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child);
  return node;
}

// ---------- HTTP ----------
// base '' means this service (relative paths); otherwise a base URL from dashboard_services.
async function getJSON(base, path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const url = base ? base.replace(/\/+$/, '') + '/' + path : path;
    const response = await fetch(url, { signal: controller.signal, cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status + ' from ' + path);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

// Rates from the difference of two /api/websocket/metrics readings.
class RateMeter {
  constructor() { this.last = null; }
  update(totals) {
    const now = performance.now() / 1000;
    let rates = null;
    if (this.last && totals.uptime_seconds >= this.last.totals.uptime_seconds) {
      const dt = Math.max(now - this.last.at, 0.001);
      const d = (key) => Math.max(0, (totals[key] || 0) - (this.last.totals[key] || 0)) / dt;
      rates = { in: d('total_messages_received'), out: d('total_deliveries'), broadcasts: d('total_broadcasts') };
    }
    this.last = { at: now, totals };
    return rates;
  }
}

// ---------- charts ----------
function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}
// The time span shown: 2, 5 or 10 minutes, the smallest that holds the data (a young service's few samples
// are not squeezed against the right edge).
function chartSpan(series, end) {
  let first = end;
  for (const s of series) for (const [t] of s.points) if (t < first) first = t;
  const age = end - first;
  return age <= 115 ? 120 : age <= 295 ? 300 : WINDOW_S;
}
function spanText(span) { return span < 600 ? 'last ' + span / 60 + ' minutes' : 'last 10 minutes'; }
function axisLabel(seconds) {
  if (seconds === 0) return 'now';
  return seconds % 60 === 0 ? '−' + seconds / 60 + ' min' : '−' + seconds + ' s';
}
// A y axis: a round step (1, 2, 2.5 or 5 × 10^k) and 2 to 5 gridlines that hold the largest value.
function yAxis(max) {
  if (!(max > 0)) max = 1;
  const rough = max / 4, p = Math.pow(10, Math.floor(Math.log10(rough))), f = rough / p;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  const ticks = Math.max(2, Math.ceil(max / step - 1e-9));
  let decimals = 0;
  while (decimals < 4 && Math.abs(Math.round(step * Math.pow(10, decimals)) - step * Math.pow(10, decimals)) > 1e-6) decimals++;
  return { ymax: ticks * step, ticks, format: (v) => v.toFixed(decimals) };
}
// series: [{color, points: [[unixSeconds, value], ...]}]; opts: {end, span}
function drawChart(canvas, series, opts) {
  const { ctx, w, h } = fitCanvas(canvas);
  const left = 52, right = 14, top = 8, bottom = 22;
  const pw = w - left - right, ph = h - top - bottom;
  const end = opts.end, span = opts.span || WINDOW_S, start = end - span;
  let max = 0;
  for (const s of series) for (const [t, v] of s.points) if (t >= start && v > max) max = v;
  const { ymax, ticks, format } = yAxis(max * 1.05);
  const x = (t) => left + (t - start) / span * pw;
  const y = (v) => top + ph - v / ymax * ph;
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = '#e3e7ee'; ctx.fillStyle = '#667085';
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (let i = 0; i <= ticks; i++) {
    const v = ymax * i / ticks, yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + pw, yy); ctx.stroke();
    ctx.fillText(format(v), left - 6, yy);
  }
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  const step = span === 120 ? 30 : span === 300 ? 60 : 120;
  for (let ago = span; ago >= 0; ago -= step) {
    const xx = Math.round(x(end - ago)) + 0.5;
    ctx.beginPath(); ctx.moveTo(xx, top); ctx.lineTo(xx, top + ph); ctx.stroke();
    ctx.fillText(axisLabel(ago), Math.min(Math.max(xx, left + 18), left + pw - 12), top + ph + 5);
  }
  let drawn = 0;
  for (const s of series) {
    const pts = s.points.filter(([t]) => t >= start - 10);
    // A null value is a gap (e.g. no latency when nothing was handled): the line breaks there.
    const runs = [];
    let run = [];
    for (const p of pts) {
      if (p[1] == null) { if (run.length) runs.push(run); run = []; } else run.push(p);
    }
    if (run.length) runs.push(run);
    if (!runs.length) continue;
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top - 2, pw + 2, ph + 4); ctx.clip();
    ctx.strokeStyle = ctx.fillStyle = s.color; ctx.lineWidth = 2; ctx.lineJoin = 'round';
    for (const r of runs) {
      drawn += r.length;
      ctx.beginPath();
      r.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
      ctx.stroke();
      if (r.length === 1) { ctx.beginPath(); ctx.arc(x(r[0][0]), y(r[0][1]), 2, 0, Math.PI * 2); ctx.fill(); continue; }
      ctx.globalAlpha = 0.08;
      ctx.lineTo(x(r[r.length - 1][0]), y(0)); ctx.lineTo(x(r[0][0]), y(0)); ctx.closePath(); ctx.fill();
      ctx.globalAlpha = 1;
    }
    const last = pts[pts.length - 1];
    if (last[1] != null) { ctx.beginPath(); ctx.arc(x(last[0]), y(last[1]), 3, 0, Math.PI * 2); ctx.fill(); }
    ctx.restore();
  }
  if (!drawn) {
    ctx.fillStyle = '#667085'; ctx.textAlign = 'center'; ctx.textBaseline = 'middle'; ctx.font = '13px system-ui, sans-serif';
    ctx.fillText('Waiting for samples (one every 5 s)…', left + pw / 2, top + ph / 2);
  }
}
function drawSpark(canvas, points, color) {
  const { ctx, w, h } = fitCanvas(canvas);
  const end = Date.now() / 1000, span = chartSpan([{ points }], end), start = end - span;
  const pts = points.filter(([t]) => t >= start);
  ctx.strokeStyle = '#e3e7ee'; ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
  if (pts.length < 1) return;
  const { ymax } = yAxis(Math.max(...pts.map((p) => p[1])) * 1.05);
  const x = (t) => (t - start) / span * w, y = (v) => h - 2 - v / ymax * (h - 6);
  ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
  pts.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
  ctx.stroke();
}
// Sample times are the server's clock; if it is far from ours, line the newest sample up with "now".
function alignedSamples(samples) {
  if (!samples.length) return samples;
  const skew = Date.now() / 1000 - samples[samples.length - 1].time;
  if (Math.abs(skew) < 30) return samples;
  return samples.map((s) => Object.assign({}, s, { time: s.time + skew }));
}

// ---------- alerts ----------
function renderAlerts(container, alerts) {
  container.replaceChildren(...(alerts || []).map((a) =>
    el('div', { class: 'alert', 'data-alert': a.alert }, el('b', {}, a.alert.replace(/_/g, ' ')), a.message)));
  container.dataset.count = String((alerts || []).length);
}

// ---------- this service ----------
const selfState = { meter: new RateMeter(), live: [], samples: [], health: null, failures: 0 };

async function pollSelf() {
  const [health, totals, rooms, history] = await Promise.all([
    getJSON('', 'health'), getJSON('', 'api/websocket/metrics'), getJSON('', 'api/rooms'), getJSON('', 'api/websocket/history')]);
  selfState.health = health;
  document.title = health.service + ' · Backbone dashboard';
  setValue('service-name', health.service, health.service);
  $('footer-self').textContent = health.service + ' at ' + location.host;
  $('address').textContent = health.host + ':' + health.port;
  setStatus($('status'), health.status);
  renderAlerts($('alerts'), health.alerts);
  setValue('uptime', health.uptime_seconds, fmtDuration(health.uptime_seconds));

  setValue('connections', totals.current_connections, fmtInt(totals.current_connections));
  setValue('max-connections', health.max_connections, fmtInt(health.max_connections));
  $('connections-meter').style.width = Math.min(100, 100 * totals.current_connections / Math.max(1, health.max_connections)) + '%';
  setValue('peak-connections', totals.peak_connections, fmtInt(totals.peak_connections));
  setValue('total-connections', totals.total_connections, fmtInt(totals.total_connections));
  setValue('messages-total', totals.total_messages_received, fmtInt(totals.total_messages_received));
  setValue('deliveries-total', totals.total_deliveries, fmtInt(totals.total_deliveries));
  setValue('broadcasts-total', totals.total_broadcasts, fmtInt(totals.total_broadcasts));

  const rates = selfState.meter.update(totals);
  const nowS = Date.now() / 1000;
  if (rates) {
    selfState.live.push({ time: nowS, in: rates.in, out: rates.out });
    selfState.live = selfState.live.filter((p) => p.time >= nowS - WINDOW_S);
    setValue('rate-in', rates.in.toFixed(2), fmtRate(rates.in));
    setValue('rate-out', rates.out.toFixed(2), fmtRate(rates.out));
    setValue('rate-broadcasts', rates.broadcasts.toFixed(2), fmtRate(rates.broadcasts));
    $('messages-now').textContent = 'now: ' + fmtRate(rates.in) + ' in/s · ' + fmtRate(rates.out) + ' delivered/s';
  }

  const entries = Object.entries(rooms.rooms || {}).map(([name, r]) => [name, r.subscribers || 0]);
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const subscriptions = entries.reduce((sum, [, n]) => sum + n, 0);
  setValue('rooms-total', rooms.total_rooms, fmtInt(rooms.total_rooms));
  setValue('subscriptions-total', subscriptions, fmtInt(subscriptions));
  renderRooms(entries);

  selfState.samples = alignedSamples(history.samples || []);
  drawSelfCharts();
  const last = selfState.samples[selfState.samples.length - 1];
  $('latency-now').textContent = !last ? '–' : last.message_latency_ms
    ? 'last 5 s: ' + fmtMs(last.message_latency_ms) + ' per message' : 'last 5 s: no messages handled';
}

function setStatus(badge, status) {
  badge.dataset.status = status;
  badge.textContent = status;
}

function renderRooms(entries) {
  const body = $('rooms');
  body.dataset.total = String(entries.length);
  if (!entries.length) {
    body.replaceChildren(el('tr', {}, el('td', { class: 'empty', colSpan: 2 }, 'No rooms yet')));
    $('rooms-shown').textContent = '';
    return;
  }
  const top = entries.slice(0, TOP_ROOMS), most = Math.max(1, top[0][1]);
  body.replaceChildren(...top.map(([name, n]) => {
    const bar = el('div', { class: 'bar' }); bar.style.width = (100 * n / most) + '%';
    return el('tr', { 'data-room': name, 'data-subscribers': String(n) },
      el('td', { class: 'room', title: name }, name, bar), el('td', { class: 'num' }, fmtInt(n)));
  }));
  $('rooms-shown').textContent = entries.length > TOP_ROOMS ? 'top ' + TOP_ROOMS + ' of ' + fmtInt(entries.length) : fmtInt(entries.length) + ' total';
}

function drawSelfCharts() {
  const samples = selfState.samples, end = Date.now() / 1000;
  const lastSample = samples.length ? samples[samples.length - 1].time : -Infinity;
  const tail = selfState.live.filter((p) => p.time > lastSample + 0.5);
  const inPts = samples.map((s) => [s.time, s.messages_in_per_second]).concat(tail.map((p) => [p.time, p.in]));
  const outPts = samples.map((s) => [s.time, s.deliveries_per_second]).concat(tail.map((p) => [p.time, p.out]));
  const messages = [{ color: COLORS.in, points: inPts }, { color: COLORS.out, points: outPts }];
  const latency = [
    // 0 means nothing was handled in that interval, not an instant answer: drawn as a gap
    { color: COLORS.latency, points: samples.map((s) => [s.time, s.message_latency_ms || null]) },
    { color: COLORS.connect, points: samples.map((s) => [s.time, s.connection_latency_ms || null]) }];
  const span = chartSpan(messages, end);
  $('chart-window').textContent = spanText(span) + ' · 5 s samples, live tail every 2 s';
  $('latency-window').textContent = spanText(span) + ' · mean per 5 s';
  drawChart($('chart-messages'), messages, { end, span });
  drawChart($('chart-latency'), latency, { end, span });
}

function withoutTimestamp(data) {
  const copy = Object.assign({}, data || {});
  delete copy.timestamp;  // the server adds one to every event; the list has its own time column
  return copy;
}

// ---------- live events of `global`, through the shared client (/client.js: reconnect and resume) ----------
function connectEvents() {
  const state = $('events-state');
  if (typeof BackboneClient === 'undefined') { state.textContent = 'unavailable'; return; }
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = new BackboneClient({
    urls: [url.href],
    onState: (s) => {
      if (s.state === 'connected') { state.textContent = 'connected'; state.dataset.state = 'open'; }
      else if (s.state === 'waiting' || s.state === 'stopped') { state.textContent = 'disconnected, retrying'; state.dataset.state = 'closed'; }
    },
    onEvent: (event) => {
      if (event.room !== 'global') return;
      const list = $('events');
      const item = el('li', { 'data-event': event.event || '' },
        el('span', { class: 't' }, fmtClock(new Date())), el('span', { class: 'e' }, event.event || ''),
        JSON.stringify(withoutTimestamp(event.data)));
      item.title = item.textContent;
      list.prepend(item);
      while (list.children.length > MAX_EVENTS) list.lastChild.remove();
    },
  });
  client.subscribe('global');
}

// ---------- all services ----------
const cards = new Map();   // base URL -> {node, meter, name, ...}
let serviceList = null, serviceListAt = 0;

async function loadServiceList() {
  if (serviceList && performance.now() - serviceListAt < 30000) return serviceList;
  const answer = await getJSON('', 'api/dashboard/services');
  serviceList = (answer.services || []).map((u) => u.replace(/\/+$/, ''));
  serviceListAt = performance.now();
  return serviceList;
}

function cardFor(url) {
  let card = cards.get(url);
  if (card) return card;
  const node = el('article', { class: 'service-card', 'data-url': url, 'data-service': hostOf(url), 'data-state': 'unknown' });
  card = { url, node, meter: new RateMeter(), name: null, samples: [] };
  cards.set(url, card);
  return card;
}
function hostOf(url) { try { return new URL(url).host; } catch (e) { return url; } }
function isSelf(url) { try { return new URL(url).origin === location.origin; } catch (e) { return false; } }

async function pollCard(card) {
  try {
    const [health, totals, history] = await Promise.all([
      getJSON(card.url, 'health'), getJSON(card.url, 'api/websocket/metrics'), getJSON(card.url, 'api/websocket/history')]);
    card.name = health.service;
    card.samples = alignedSamples(history.samples || []);
    card.rates = card.meter.update(totals);
    renderCard(card, health, totals);
  } catch (error) {
    card.meter = new RateMeter();
    renderDownCard(card, error);
  }
}

function cardHead(card, status) {
  const badge = el('span', { class: 'badge', 'data-status': status }, status);
  const head = el('div', { class: 'head' }, el('span', { class: 'name' }, card.name || hostOf(card.url)));
  if (isSelf(card.url)) head.append(el('span', { class: 'self' }, 'this service'));
  head.append(badge);
  return head;
}

function renderCard(card, health, totals) {
  const n = card.node;
  n.dataset.service = health.service; n.dataset.state = 'up'; n.dataset.status = health.status;
  n.dataset.connections = String(totals.current_connections);
  const row = (label, key, value, text) => [el('dt', {}, label), el('dd', { 'data-field': key, 'data-value': String(value) }, text)];
  const rates = card.rates;
  const spark = el('canvas', { 'aria-label': 'deliveries per second' });
  const link = el('a', { href: card.url + '/dashboard', target: '_blank', rel: 'noopener' }, 'open its dashboard →');
  n.replaceChildren(
    cardHead(card, health.status),
    el('div', { class: 'url' }, card.url),
    el('dl', {},
      ...row('connections', 'connections', totals.current_connections, fmtInt(totals.current_connections) + ' / ' + fmtInt(health.max_connections)),
      ...row('peak', 'peak', totals.peak_connections, fmtInt(totals.peak_connections)),
      ...row('rooms', 'rooms', health.rooms, fmtInt(health.rooms)),
      ...row('messages received', 'messages', totals.total_messages_received, fmtInt(totals.total_messages_received)),
      ...row('deliveries', 'deliveries', totals.total_deliveries, fmtInt(totals.total_deliveries)),
      ...row('now in / delivered /s', 'rates', rates ? rates.in.toFixed(2) : '', rates ? fmtRate(rates.in) + ' / ' + fmtRate(rates.out) : '–'),
      ...row('uptime', 'uptime', health.uptime_seconds, fmtDuration(health.uptime_seconds))),
    spark,
    el('div', { class: 'url' }, 'deliveries /s, ' + spanText(chartSpan([{ points: card.samples.map((x) => [x.time, 0]) }], Date.now() / 1000))),
    ...(health.alerts || []).map((a) => el('div', { class: 'alert', 'data-alert': a.alert }, el('b', {}, a.alert.replace(/_/g, ' ')), a.message)),
    link);
  drawSpark(spark, card.samples.map((s) => [s.time, s.deliveries_per_second]), COLORS.out);
}

function renderDownCard(card, error) {
  const n = card.node;
  n.dataset.state = 'down'; n.dataset.status = 'down';
  if (card.name) n.dataset.service = card.name;
  const reason = error && error.name === 'AbortError' ? 'no answer within ' + FETCH_TIMEOUT_MS / 1000 + ' s'
    : (error && /^HTTP /.test(error.message) ? error.message : 'not reachable');
  n.replaceChildren(cardHead(card, 'down'), el('div', { class: 'url' }, card.url),
    el('div', { class: 'down-msg' }, 'Down: ' + reason + '.'), el('div', { class: 'url' }, 'Last checked ' + fmtClock(new Date())));
}

async function pollAll() {
  let urls;
  try {
    urls = await loadServiceList();
    $('all-error').hidden = true;
  } catch (error) {
    $('all-error').hidden = false;
    $('all-error').textContent = 'Could not read the service list from this service (' + error.message + ').';
    return;
  }
  const container = $('cards');
  const wanted = urls.map(cardFor);
  for (const [url, card] of cards) if (!urls.includes(url)) { card.node.remove(); cards.delete(url); }
  if (container.children.length !== wanted.length || wanted.some((c, i) => container.children[i] !== c.node)) {
    container.replaceChildren(...wanted.map((c) => c.node));
  }
  if (!wanted.length) container.replaceChildren(el('div', { class: 'notice' }, 'dashboard_services is empty.'));
  await Promise.all(wanted.map(pollCard));
  // keep the header (this service) current too
  try {
    const health = await getJSON('', 'health');
    setValue('service-name', health.service, health.service);
    setStatus($('status'), health.status);
    renderAlerts($('alerts'), health.alerts);
    setValue('uptime', health.uptime_seconds, fmtDuration(health.uptime_seconds));
  } catch (error) { setStatus($('status'), 'down'); }
}

// ---------- loop and view switch ----------
let view = location.hash === '#all' ? 'all' : 'self';
let timer = null, generation = 0;

async function tick() {
  const mine = ++generation;
  clearTimeout(timer);
  try {
    let fresh = true;
    if (view === 'all') {
      await pollAll();
    } else {
      try {
        await pollSelf();
        $('self-error').hidden = true;
      } catch (error) {
        fresh = false;
        setStatus($('status'), 'down');
        $('self-error').hidden = false;
        $('self-error').textContent = 'This service did not answer (' + (error.name === 'AbortError' ? 'timeout' : error.message) +
          '); showing the last values. Retrying every ' + POLL_MS / 1000 + ' s.';
        selfState.meter = new RateMeter();
      }
    }
    if (fresh) {
      const updated = $('updated');
      updated.textContent = 'updated ' + fmtClock(new Date());
      updated.dataset.at = String(Date.now());
    }
  } finally {
    if (mine === generation) timer = setTimeout(tick, POLL_MS);
  }
}

function showView(next) {
  view = next;
  $('self-view').hidden = view !== 'self';
  $('all-view').hidden = view !== 'all';
  $('view-self').setAttribute('aria-pressed', String(view === 'self'));
  $('view-all').setAttribute('aria-pressed', String(view === 'all'));
  document.body.dataset.view = view;
  history.replaceState(null, '', view === 'all' ? '#all' : location.pathname + location.search);
  tick();
}

$('view-self').addEventListener('click', () => showView('self'));
$('view-all').addEventListener('click', () => showView('all'));
window.addEventListener('resize', () => { if (view === 'self') drawSelfCharts(); });
showView(view);
connectEvents();
</script>
</body>
</html>
"""#
}
