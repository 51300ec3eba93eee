// Insights page: why customers called in a period (GET /v1/insights/contact-reasons):
// top primary reasons, avoidable and repeat-contact shares, escalations per reason and the
// trend stacked by the top reasons, filtered by period, queue and language. The API scopes
// the figures to the token (a supervisor's queues, an agent's own calls); the page only asks.
import { api, ApiError, claimsOf, clear, el, label, showStatus, takeToken } from './common.js';

const { token } = takeToken('insights');
const claims = claimsOf(token);
const $ = (id) => document.getElementById(id);
const Chart = window.Chart;

/** Reasons given their own colour in the trend; the rest are summed as "Other". */
const TOP_IN_TREND = 6;
const PALETTE = ['#1f6feb', '#8250df', '#0a7f6f', '#e8702a', '#d4a017', '#cf222e', '#57606a'];
const OTHER_COLOUR = '#8c959f';
const DAY_MS = 86_400_000;
/** The API's name for calls without a detected reason (ContactReasonReport NO_REASON). */
const NO_REASON = 'none';
const NO_REASON_COLOUR = '#d0d7de';
const reasonLabel = (reason) => (reason === NO_REASON ? 'No reason detected' : label(reason));

$('who').textContent = claims.role === 'agent' ? `· your calls (${claims.agentId || claims.sub || 'agent'})` : Array.isArray(claims.queues) ? `· ${claims.queues.join(', ')}` : claims.role === 'admin' ? '· all queues' : '';
if (claims.role === 'agent') $('wall-link').href = '/agent';
if (claims.role === 'agent') $('wall-link').textContent = 'Agent view';
for (const queue of Array.isArray(claims.queues) ? claims.queues : []) $('queue').append(el('option', { value: queue }, queue));
if (claims.role === 'agent') $('queue').closest('label').hidden = true;

Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.font.size = 12;
Chart.defaults.color = '#646d7d';
Chart.defaults.animation = false;

const charts = {};
function chart(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), { ...config, options: { responsive: true, maintainAspectRatio: false, ...config.options } });
}

const percent = (x) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

/** The API's parameters from the filters. */
function query() {
  const params = new URLSearchParams();
  const period = $('period').value;
  let span;
  if (period === 'custom') {
    const from = $('from').value;
    const to = $('to').value;
    if (from) params.set('from', from);
    // The "to" day is included: the period ends at the start of the next one.
    if (to) params.set('to', new Date(Date.parse(to) + DAY_MS).toISOString().slice(0, 10));
    span = (to ? Date.parse(to) + DAY_MS : Date.now()) - (from ? Date.parse(from) : Date.now() - 7 * DAY_MS);
  } else {
    span = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS }[period];
    const now = Date.now();
    params.set('to', new Date(now).toISOString());
    params.set('from', new Date(now - span).toISOString());
  }
  const bucket = $('bucket').value === 'auto' ? (span <= 2 * DAY_MS ? 'hour' : 'day') : $('bucket').value;
  params.set('bucket', bucket);
  if ($('queue').value) params.set('queue', $('queue').value);
  if ($('language').value) params.set('language', $('language').value);
  return params;
}

function bucketLabel(iso, bucket) {
  const d = new Date(iso);
  return bucket === 'hour' ? d.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

function render(report) {
  $('kpi-calls').textContent = report.calls.toLocaleString();
  $('kpi-avoidable').textContent = percent(report.avoidableShare);
  $('kpi-repeat').textContent = percent(report.repeatContactShare);
  $('kpi-escalated').textContent = percent(report.escalationRate);
  $('range').textContent = `${new Date(report.from).toLocaleString()} – ${new Date(report.to).toLocaleString()}`;
  document.body.dataset.calls = String(report.calls);

  const reasons = report.reasons;
  const named = reasons.filter((r) => r.reason !== NO_REASON);
  const colour = new Map(named.slice(0, TOP_IN_TREND).map((r, i) => [r.reason, PALETTE[i % PALETTE.length]]));
  colour.set(NO_REASON, NO_REASON_COLOUR);
  const colourOf = (reason) => colour.get(reason) || OTHER_COLOUR;

  chart('chart-reasons', {
    type: 'bar',
    data: {
      labels: reasons.map((r) => reasonLabel(r.reason)),
      datasets: [{ label: 'Calls', data: reasons.map((r) => r.calls), backgroundColor: reasons.map((r) => (r.reason === NO_REASON ? NO_REASON_COLOUR : r.avoidable ? '#2da44e' : '#1f6feb')), borderRadius: 4 }],
    },
    options: {
      indexAxis: 'y',
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => `${ctx.raw} calls (${percent(reasons[ctx.dataIndex].share)})${reasons[ctx.dataIndex].avoidable ? ' · avoidable' : ''}` } },
        subtitle: { display: true, text: 'Green: avoidable (self-service could have answered)', align: 'start', padding: { bottom: 8 } },
      },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } },
    },
  });

  chart('chart-escalations', {
    type: 'bar',
    data: {
      labels: reasons.map((r) => reasonLabel(r.reason)),
      datasets: [{ label: 'Escalated', data: reasons.map((r) => Math.round(r.escalationRate * 1000) / 10), backgroundColor: reasons.map((r) => (r.escalationRate >= 0.25 ? '#cf222e' : r.escalationRate > 0 ? '#e8702a' : '#d0d7de')), borderRadius: 4 }],
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${ctx.raw}% of ${reasons[ctx.dataIndex].calls} calls escalated` } } },
      scales: { x: { beginAtZero: true, suggestedMax: 50, ticks: { callback: (v) => `${v}%` } }, y: { grid: { display: false } } },
    },
  });

  // The top named reasons, each its colour; calls without a reason last, in grey.
  const top = [...named.slice(0, TOP_IN_TREND).map((r) => r.reason), ...(reasons.some((r) => r.reason === NO_REASON) ? [NO_REASON] : [])];
  const datasets = top.map((reason) => ({ label: reasonLabel(reason), data: report.trend.map((p) => p.byReason[reason] || 0), backgroundColor: colourOf(reason), stack: 'calls' }));
  if (reasons.length > top.length) {
    datasets.push({ label: 'Other', data: report.trend.map((p) => Object.entries(p.byReason).reduce((n, [reason, c]) => (top.includes(reason) ? n : n + c), 0)), backgroundColor: OTHER_COLOUR, stack: 'calls' });
  }
  chart('chart-trend', {
    type: 'bar',
    data: { labels: report.trend.map((p) => bucketLabel(p.bucket, report.bucket)), datasets },
    options: {
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      scales: { x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });

  const body = $('reasons');
  clear(body);
  for (const r of reasons) {
    body.append(
      el(
        'tr',
        { 'data-reason': r.reason },
        el('td', {}, el('span', { class: 'swatch', 'data-colour': r.reason === NO_REASON ? 'none' : colour.has(r.reason) ? String(top.indexOf(r.reason)) : 'other' }), reasonLabel(r.reason), r.churnRisk ? el('span', { class: 'badge churn', title: 'Churn risk' }, 'churn risk') : null),
        el('td', { class: 'num calls-count' }, r.calls.toLocaleString()),
        el('td', { class: 'num share' }, percent(r.share)),
        el('td', { class: 'channel' }, r.avoidable ? (r.channel ? label(r.channel) : 'self-service') : '–'),
        el('td', { class: 'num repeat' }, percent(r.repeatContactShare)),
        el('td', { class: 'num escalated' }, percent(r.escalationRate)),
      ),
    );
  }
  $('no-data').hidden = reasons.length > 0;
}

let loading = 0;
async function load() {
  const mine = ++loading;
  showStatus($('status'), 'loading');
  $('status').textContent = 'Loading…';
  try {
    const { body } = await api(token, `/v1/insights/contact-reasons?${query()}`);
    if (mine !== loading) return;
    render(body);
    showStatus($('status'), 'live');
    $('status').textContent = `Updated ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  } catch (err) {
    if (mine !== loading) return;
    const denied = err instanceof ApiError && (err.status === 401 || err.status === 403);
    showStatus($('status'), denied ? 'denied' : 'reconnecting');
    $('status').textContent = denied ? `Access denied: ${err.message}` : `Failed: ${err.message}`;
  }
}

async function exportCsv() {
  const res = await fetch(`/v1/insights/contact-reasons?${query()}&format=csv`, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '');
  el('a', { href: url, download: name ? name[1] : 'contact-reasons.csv' }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

$('period').addEventListener('change', () => {
  const custom = $('period').value === 'custom';
  for (const node of document.querySelectorAll('.custom')) node.hidden = !custom;
  if (custom && !$('from').value) {
    $('to').value = new Date().toISOString().slice(0, 10);
    $('from').value = new Date(Date.now() - 6 * DAY_MS).toISOString().slice(0, 10);
  }
  void load();
});
for (const id of ['from', 'to', 'queue', 'language', 'bucket']) $(id).addEventListener('change', () => void load());
$('filters').addEventListener('submit', (e) => e.preventDefault());
$('export').addEventListener('click', () => void exportCsv());

void load();
// Records arrive as calls end: refresh every minute while the page is open.
setInterval(() => document.visibilityState === 'visible' && void load(), 60_000);
