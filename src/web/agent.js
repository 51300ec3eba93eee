// Agent view: the agent's current call (the latest call.started of this agent), its live
// transcript on both legs, intent chips, prompts with entities, and the escalation meter.
import { api, claimsOf, clear, duration, el, EventStream, label, LEVELS, runStart, showStatus, takeToken, Transcript } from './common.js';

const { token, params } = takeToken('agent');
const claims = claimsOf(token);
const agentId = claims.agent_id || params.get('agent') || '';
const $ = (id) => document.getElementById(id);
$('who').textContent = agentId ? `· ${agentId}` : '';

const transcript = new Transcript($('transcript'));
/** callId → what the page knows of each of this agent's calls. */
const calls = new Map();
let current;

function callState(callId) {
  let call = calls.get(callId);
  if (!call) {
    call = { callId, queue: '', startedAt: Date.now(), ended: false, durationMs: 0, level: 'calm', intents: new Map(), prompts: new Map(), transcript: [] };
    calls.set(callId, call);
  }
  return call;
}

function show(call) {
  current = call;
  transcript.reset();
  for (const event of call.transcript) transcript.add(event);
  renderMeta();
  renderIntents();
  renderPrompts();
  renderLevel();
}

function renderMeta() {
  if (!current) return;
  const time = current.ended ? `ended after ${duration(current.durationMs)}` : duration(Date.now() - current.startedAt);
  $('call-meta').textContent = `${current.callId} · queue ${current.queue || '?'} · ${time}`;
}

function renderLevel() {
  const level = current ? current.level : 'calm';
  const index = LEVELS.indexOf(level);
  const meter = $('meter');
  meter.dataset.level = level;
  meter.setAttribute('aria-valuenow', String(index));
  meter.setAttribute('aria-valuetext', level);
  meter.querySelectorAll('span').forEach((segment, i) => segment.classList.toggle('on', i <= index));
  $('level').textContent = level;
  $('level').dataset.level = level;
}

function renderIntents() {
  const list = $('intents');
  clear(list);
  for (const intent of current ? current.intents.values() : []) {
    list.append(el('li', { class: `chip ${intent.kind}`, title: `"${intent.text}"` }, label(intent.intent)));
  }
}

function copyButton(value) {
  const button = el('button', { type: 'button', class: 'copy', 'aria-label': `Copy order number ${value}` }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(button.previousSibling);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Selected';
    }
    setTimeout(() => (button.textContent = 'Copy'), 1500);
  });
  return button;
}

function renderPrompts() {
  const list = $('prompts');
  clear(list);
  const prompts = current ? [...current.prompts.values()].reverse() : [];
  if (prompts.length === 0) list.append(el('li', { class: 'empty' }, 'Prompts for this call appear here.'));
  for (const prompt of prompts) {
    list.append(
      el(
        'li',
        { class: 'prompt', 'data-intent': prompt.intent },
        el('span', { class: 'chip intent' }, label(prompt.intent)),
        el('p', { class: 'prompt-text' }, prompt.text),
        prompt.entities.length > 0 &&
          el(
            'ul',
            { class: 'entities', 'aria-label': 'Entities' },
            prompt.entities.map((entity) =>
              el('li', { class: 'entity' }, el('span', { class: 'entity-type' }, label(entity.type)), el('code', { class: 'entity-value' }, entity.value), entity.type === 'order_number' && copyButton(entity.value)),
            ),
          ),
      ),
    );
  }
}

function onEvent(event) {
  if (event.type === 'call.started') {
    if (agentId && event.agentId !== agentId) return;
    const call = callState(event.callId);
    Object.assign(call, { queue: event.queue, startedAt: event.ts });
    if (!current || call.startedAt >= current.startedAt) show(call);
    return;
  }
  const call = calls.get(event.callId);
  if (!call) return;
  switch (event.type) {
    case 'transcript':
      call.transcript = call.transcript.filter((t) => !(t.leg === event.leg && t.utteranceId === event.utteranceId)).concat(event);
      if (call === current) transcript.add(event);
      break;
    case 'intent':
      if (!call.intents.has(event.intent)) call.intents.set(event.intent, event);
      if (call === current) renderIntents();
      break;
    case 'prompt':
      call.prompts.delete(event.promptId);
      call.prompts.set(event.promptId, event);
      if (call === current) renderPrompts();
      break;
    case 'escalation':
      call.level = event.level;
      if (call === current) renderLevel();
      break;
    case 'call.ended':
      Object.assign(call, { ended: true, durationMs: event.durationMs });
      if (call === current) renderMeta();
      break;
    default:
  }
}

async function start() {
  let cursor;
  let origin;
  try {
    // The snapshot says which calls are active (also those older than the event history) and checks the token.
    const reply = await api(token, '/v1/calls');
    const body = reply.body;
    cursor = reply.cursor;
    origin = reply.origin;
    for (const snapshot of body) {
      if (agentId && snapshot.agentId !== agentId) continue;
      const call = callState(snapshot.callId);
      Object.assign(call, { queue: snapshot.queue, startedAt: snapshot.startedAt, level: snapshot.escalationLevel || 'calm' });
      if (!current || call.startedAt >= current.startedAt) show(call);
    }
  } catch (err) {
    showStatus($('status'), err.status === 401 || err.status === 403 ? 'denied' : 'reconnecting');
    $('call-meta').textContent = err.message;
    if (err.status === 401 || err.status === 403) return;
  }
  const stream = new EventStream({
    token,
    query: { types: 'call.started,transcript,intent,prompt,escalation,call.ended' },
    onEvent,
    onStatus: (status) => showStatus($('status'), status),
    onGap: () => {},
  });
  // Everything the gateway (or the cluster's stream) still holds of this agent's calls, then live.
  stream.start(origin ?? (cursor === undefined ? undefined : runStart(cursor)));
}

setInterval(() => current && !current.ended && renderMeta(), 1000);
void start();
