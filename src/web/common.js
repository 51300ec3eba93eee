// Shared by the agent and supervisor pages: token, API calls, the event stream, DOM helpers.
// Event text is only ever set with textContent (never innerHTML).

/** The bearer token: taken from the URL fragment (#token=…) once, then kept in sessionStorage. */
export function takeToken(page) {
  const key = `sgw.token.${page}`;
  const params = new URLSearchParams(location.hash.slice(1));
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(key, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return { token: sessionStorage.getItem(key) || '', params };
}

/** The claims of a JWT, for display only (the gateway verifies it). */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1] || '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')));
  } catch {
    return {};
  }
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch with the bearer token; JSON in and out. */
export async function api(token, path, options = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { ...options, headers, cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, (body.error && body.error.message) || `HTTP ${res.status}`);
  return { body, cursor: res.headers.get('x-sgw-event-cursor') || undefined, origin: res.headers.get('x-sgw-event-origin') || undefined };
}

/**
 * Event ids and cursors are `<epoch>-<seq>`: the gateway's run, then the event
 * within it. Orders two of them (runs by epoch, then events by seq).
 */
export function compareEventIds(a, b) {
  const [ea, sa] = String(a).split('-').map(Number);
  const [eb, sb] = String(b).split('-').map(Number);
  return ea - eb || sa - sb;
}

/** The cursor before the first event of `cursor`'s run: `since=` it replays everything the run still holds (a gateway without the `x-sgw-event-origin` header). */
export function runStart(cursor) {
  return String(cursor).replace(/-\d+$/, '-0');
}

/** Close code of /v1/events when the token expired (docs/events.md): reconnecting with the same token cannot succeed. */
const TOKEN_EXPIRED = 4401;

/**
 * /v1/events with reconnect: exponential backoff with jitter (0.5 s … 15 s),
 * resume with `since=<last eventId>`, app-level heartbeats every 15 s (a
 * connection silent for 40 s is presumed dead). `onGap` is called when the
 * gateway no longer has every missed event: the page reloads its snapshot.
 * At 4401 (the page's token expired) it stops: the page needs a fresh token.
 */
export class EventStream {
  constructor({ token, query = {}, onEvent, onStatus = () => {}, onGap = () => {} }) {
    Object.assign(this, { token, query, onEvent, onStatus, onGap });
    this.cursor = undefined;
    this.attempt = 0;
    this.stopped = false;
    this.ws = undefined;
    this.lastHeard = 0;
    this.watchdog = setInterval(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastHeard > 40_000) this.ws.close();
    }, 5000);
  }

  start(since) {
    this.cursor = since;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const params = new URLSearchParams({ ...this.query, heartbeat: '15' });
    if (this.cursor !== undefined) params.set('since', String(this.cursor));
    if (this.token) params.set('access_token', this.token);
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/events?${params}`);
    this.ws = ws;
    this.onStatus('connecting');
    ws.onopen = () => {
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.onStatus('live');
    };
    ws.onmessage = (message) => {
      this.lastHeard = Date.now();
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type === 'heartbeat') return;
      if (event.type === 'resume.gap') {
        this.onGap(event);
        return;
      }
      // Events arrive in eventId order (replay, then live): the last one is the cursor.
      if (typeof event.eventId === 'string') this.cursor = event.eventId;
      this.onEvent(event);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws || this.stopped) return;
      if (close.code === TOKEN_EXPIRED) {
        this.onStatus('expired');
        this.stop();
        return;
      }
      this.onStatus('reconnecting');
      const delay = Math.min(15_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watchdog);
    if (this.ws) this.ws.close();
  }
}

/** createElement with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** `mm:ss` (or `h:mm:ss`) of a duration in ms. */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hh > 0 ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** `cancel_order` → `Cancel order`. */
export function label(id) {
  const text = String(id || '').replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const LEVELS = ['calm', 'elevated', 'high', 'critical'];

/** Connection status pill. */
export function showStatus(node, status) {
  node.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', denied: 'Access denied', expired: 'Token expired: reopen with a fresh one' }[status] || status;
  node.dataset.status = status;
}

/**
 * A transcript that replaces partials by the final of the same utterance:
 * lines keyed by leg and utteranceId, kept in start-time order.
 */
export class Transcript {
  constructor(list) {
    this.list = list;
    this.lines = new Map();
  }

  reset() {
    this.lines.clear();
    clear(this.list);
  }

  add(event) {
    const key = `${event.leg}:${event.utteranceId}`;
    let line = this.lines.get(key);
    if (!line) {
      line = {
        node: el('li', { class: `line ${event.leg}` }, el('span', { class: 'speaker' }, event.leg === 'customer' ? 'Customer' : 'Agent'), el('span', { class: 'at' }), el('span', { class: 'text' })),
        startMs: event.startMs,
      };
      this.lines.set(key, line);
      const after = [...this.lines.values()].filter((l) => l !== line && l.startMs > event.startMs).sort((a, b) => a.startMs - b.startMs)[0];
      this.list.insertBefore(line.node, after ? after.node : null);
    }
    line.node.querySelector('.at').textContent = duration(event.startMs);
    line.node.querySelector('.text').textContent = event.text;
    line.node.classList.toggle('partial', !event.final);
    const scroller = this.list.parentElement;
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }
}
