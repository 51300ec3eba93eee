// Supervisor wall: every active call of the supervisor's queues (agent, duration, contact
// reason so far, escalation level), an alert feed with Acknowledge, and any call's live
// transcript. Alerts raised while the page was closed come from GET /v1/alerts?unacked=1.
import { api, claimsOf, clear, clock, compareEventIds, duration, el, EventStream, label, showStatus, takeToken, Transcript } from './common.js';

const { token } = takeToken('supervisor');
const claims = claimsOf(token);
const $ = (id) => document.getElementById(id);
// The insights page keeps its own copy of the token (per page, per tab): hand it over in the fragment.
if (token) $('insights-link').href = `/insights#token=${encodeURIComponent(token)}`;
$('who').textContent = Array.isArray(claims.queues) ? `· ${claims.queues.join(', ')}` : claims.role === 'admin' ? '· all queues' : '';

/** callId → row state. */
const calls = new Map();
/** alertId → alert (with ackedBy/ackedAt once acknowledged). */
const alerts = new Map();
let stream;
let panel;

function upsertCall(callId, fields) {
  const call = calls.get(callId) || { callId, agentId: '', queue: '', startedAt: Date.now(), contactReason: undefined, level: 'calm', ended: false, durationMs: 0 };
  Object.assign(call, fields);
  calls.set(callId, call);
  return call;
}

function renderCalls() {
  const body = $('calls');
  clear(body);
  const rows = [...calls.values()].sort((a, b) => a.startedAt - b.startedAt);
  for (const call of rows) {
    const open = () => openPanel(call.callId);
    body.append(
      el(
        'tr',
        {
          class: `call-row${call.ended ? ' ended' : ''}${panel && panel.callId === call.callId ? ' selected' : ''}`,
          'data-call-id': call.callId,
          tabindex: '0',
          'aria-label': `Open the transcript of call ${call.callId}`,
          onclick: open,
          onkeydown: (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), open()),
        },
        el('td', { class: 'mono' }, call.callId),
        el('td', {}, call.agentId),
        el('td', {}, call.queue),
        el('td', { class: 'mono duration' }, call.ended ? `${duration(call.durationMs)} ended` : duration(Date.now() - call.startedAt)),
        el('td', { class: 'reason' }, call.contactReason ? label(call.contactReason) : '…'),
        el('td', {}, el('span', { class: 'level', 'data-level': call.level }, call.level)),
      ),
    );
  }
  const active = rows.filter((c) => !c.ended).length;
  $('call-count').textContent = String(active);
  $('no-calls').hidden = rows.length > 0;
}

function tickDurations() {
  for (const row of $('calls').querySelectorAll('tr')) {
    const call = calls.get(row.dataset.callId);
    if (call && !call.ended) row.querySelector('.duration').textContent = duration(Date.now() - call.startedAt);
  }
}

function renderAlerts() {
  const list = $('alerts');
  clear(list);
  const all = [...alerts.values()].sort((a, b) => compareEventIds(b.eventId, a.eventId));
  for (const alert of all) {
    const acked = alert.ackedAt !== undefined;
    const button = el('button', { type: 'button', class: 'ack', 'aria-label': `Acknowledge alert on call ${alert.callId}` }, 'Acknowledge');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const { body } = await api(token, `/v1/alerts/${encodeURIComponent(alert.alertId)}/ack`, { method: 'POST' });
        alerts.set(alert.alertId, body);
        renderAlerts();
      } catch (err) {
        button.disabled = false;
        button.textContent = `Retry (${err.message})`;
      }
    });
    list.append(
      el(
        'li',
        { class: `alert ${alert.severity}${acked ? ' acked' : ''}`, 'data-alert-id': alert.alertId },
        el('div', { class: 'alert-head' }, el('span', { class: `badge ${alert.severity}` }, alert.severity), el('time', { datetime: new Date(alert.ts).toISOString() }, clock(alert.ts))),
        el('p', { class: 'alert-message' }, alert.message),
        el('p', { class: 'meta' }, `${alert.queue} · ${alert.agentId} · `, el('a', { href: '#', class: 'call-link', onclick: (e) => (e.preventDefault(), openPanel(alert.callId)) }, alert.callId)),
        alert.reasons && alert.reasons.length > 0 && el('p', { class: 'reasons' }, [...new Set(alert.reasons.map((r) => label(r.kind)))].join(' · ')),
        acked ? el('p', { class: 'acked-by' }, `Acknowledged by ${alert.ackedBy} at ${clock(alert.ackedAt)}`) : button,
      ),
    );
  }
  $('alert-count').textContent = String(all.filter((a) => a.ackedAt === undefined).length);
  $('no-alerts').hidden = all.length > 0;
}

function openPanel(callId) {
  if (panel) panel.stream.stop();
  const call = calls.get(callId);
  $('panel').hidden = false;
  $('panel-title').textContent = `Transcript · ${callId}`;
  $('panel-meta').textContent = call ? `${call.agentId} · ${call.queue}` : '';
  const transcript = new Transcript($('panel-transcript'));
  transcript.reset();
  const panelStream = new EventStream({
    token,
    query: { callId, types: 'transcript,call.ended' },
    onEvent: (event) => {
      if (event.type === 'transcript') transcript.add(event);
      else if (event.type === 'call.ended') $('panel-meta').textContent = `${call ? `${call.agentId} · ${call.queue} · ` : ''}ended (${event.reason})`;
    },
  });
  panel = { callId, stream: panelStream };
  // Everything the gateway still holds of this call, then live.
  panelStream.start(0);
  renderCalls();
}

$('panel-close').addEventListener('click', () => {
  if (panel) panel.stream.stop();
  panel = undefined;
  $('panel').hidden = true;
  renderCalls();
});

function onEvent(event) {
  switch (event.type) {
    case 'call.started':
      upsertCall(event.callId, { agentId: event.agentId, queue: event.queue, startedAt: event.ts, ended: false });
      break;
    case 'intent': {
      const call = calls.get(event.callId);
      // Contact reason so far: the customer's first contact-reason intent (as in the post-call record).
      if (call && event.kind === 'intent' && event.leg === 'customer' && !call.contactReason) call.contactReason = event.intent;
      break;
    }
    case 'escalation':
      if (calls.has(event.callId)) upsertCall(event.callId, { level: event.level });
      break;
    case 'call.ended':
      if (calls.has(event.callId)) {
        upsertCall(event.callId, { ended: true, durationMs: event.durationMs });
        // Ended calls stay greyed for a minute, then leave the wall.
        setTimeout(() => {
          calls.delete(event.callId);
          renderCalls();
        }, 60_000);
      }
      break;
    case 'alert':
      if (!alerts.has(event.alertId)) alerts.set(event.alertId, event);
      renderAlerts();
      return;
    case 'alert.ack': {
      const alert = alerts.get(event.alertId);
      if (alert) alerts.set(event.alertId, { ...alert, ackedBy: event.ackedBy, ackedAt: event.ackedAt });
      renderAlerts();
      return;
    }
    default:
      return;
  }
  renderCalls();
}

/** Snapshot (active calls, unacknowledged alerts), then the event stream from the snapshot's cursor. */
async function load() {
  try {
    const callsReply = await api(token, '/v1/calls');
    const alertsReply = await api(token, '/v1/alerts?unacked=1');
    calls.clear();
    for (const c of callsReply.body) {
      upsertCall(c.callId, { agentId: c.agentId, queue: c.queue, startedAt: c.startedAt, contactReason: c.contactReason, level: c.escalationLevel || 'calm' });
    }
    for (const alert of alertsReply.body.alerts) alerts.set(alert.alertId, alert);
    renderCalls();
    renderAlerts();
    return callsReply.cursor;
  } catch (err) {
    if (err.status === 401 || err.status === 403) {
      showStatus($('status'), 'denied');
      $('no-calls').textContent = err.message;
      return undefined;
    }
    throw err;
  }
}

async function start() {
  const cursor = await load();
  if (cursor === undefined) return;
  stream = new EventStream({
    token,
    query: { types: 'call.started,intent,escalation,alert,alert.ack,call.ended' },
    onEvent,
    onStatus: (status) => showStatus($('status'), status),
    // Missed more than the gateway kept: take a fresh snapshot and resume after it.
    onGap: () => {
      void load().then((fresh) => {
        if (fresh !== undefined) stream.cursor = fresh;
      });
    },
  });
  stream.start(cursor);
}

setInterval(tickDurations, 1000);
start().catch((err) => {
  showStatus($('status'), 'reconnecting');
  $('no-calls').textContent = `Could not load: ${err.message}. Reload to retry.`;
});
