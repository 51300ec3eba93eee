import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { AccessControl } from '../auth/AccessControl.js';
import { ANONYMOUS_ADMIN, type CallOwner, type Principal } from '../auth/Principal.js';
import { canReadEvents, canSee } from '../auth/scope.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { compareEventIds } from './EventCursor.js';
import type { EventSource, HistoryEntry } from './EventSource.js';
import { isEventType, type GatewayEvent } from '../events.js';
import { closeReason } from '../websocketCloseReason.js';

export const EVENTS_PATH = '/v1/events';

/** Close codes used on /v1/events (RFC 6455 §7.4; 4000-4999 are ours). */
export const CloseCodes = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** The client sent something other than an `auth` message. */
  UNSUPPORTED_DATA: 1003,
  /** The client did not keep up: its send buffer passed the limit. */
  SLOW_CONSUMER: 4008,
  /** Bad query parameters, or an `auth` message without a token. */
  BAD_REQUEST: 4400,
  /** The connection's token expired (no fresh one came in time), or a fresh token did not verify. */
  UNAUTHORIZED: 4401,
  /** A fresh token whose role may not read events. */
  FORBIDDEN: 4403,
  /** Too many event clients connected; retry later (RFC 6455 §7.4.1 "Try Again Later"). */
  TRY_AGAIN_LATER: 1013,
} as const;

export interface WebSocketEventServerOptions {
  readonly hub: EventSource;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Refusals before the upgrade (403) are counted through it; default: authentication off. */
  readonly access?: AccessControl;
  /**
   * Per-client send buffer limit. A client whose unsent bytes exceed it is
   * closed with 4008 rather than letting the gateway's memory grow.
   */
  readonly maxBufferedBytes?: number;
  readonly heartbeatIntervalMs?: number;
  /** Connected clients at most; one more is closed with 1013 (default 1000). */
  readonly maxClients?: number;
  /** How long a resuming client may take to drain its replay before it is closed as a slow consumer (default 10 s). */
  readonly replayDrainTimeoutMs?: number;
}

interface Subscription {
  readonly callId: string | undefined;
  readonly types: ReadonlySet<string> | undefined;
  /** Replay retained events after this eventId (as the client sent it) before going live. */
  readonly since: string | undefined;
  /** Send a `heartbeat` message every this many ms (browsers cannot see WebSocket pings). */
  readonly heartbeatMs: number | undefined;
}

interface ClientState {
  seq: number;
  alive: boolean;
  readonly subscription: Subscription;
  /** Whose token the connection runs on; replaced by a fresh token (`auth` message). */
  principal: Principal;
  /** Live events held back while the client's replay is still being sent; undefined once live. */
  pending: HistoryEntry[] | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  /** Closes the connection when its token expires. */
  expiry: NodeJS.Timeout | undefined;
  /** A fresh token is being verified; at most one at a time per connection. */
  verifying: boolean;
  /** The token to verify next: a newer `auth` message replaces an older one still waiting (bounded to one). */
  nextToken: string | undefined;
}

/** Live events a replaying client may have held back before it counts as a slow consumer. */
const MAX_PENDING = 10_000;
/** Longest setTimeout delay Node takes (about 24.8 days); a later expiry is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Characters of the client's `since` echoed in `resume.gap`. */
const MAX_SINCE_ECHO = 64;

/**
 * `/v1/events`: gateway events as JSON text messages with a per-connection
 * increasing `seq` and the hub's `eventId` cursor. A connection sees only the
 * calls its principal may see (agent: own calls, supervisor: its queues,
 * admin: all). Query: `callId=<id>`, `types=transcript,intent`,
 * `since=<eventId>` (replay retained events after the cursor first; a
 * `resume.gap` message says when some may be missing, and why),
 * `heartbeat=<s>` (a `heartbeat` message every s seconds).
 *
 * A connection lives no longer than its token: it is closed with 4401 at the
 * token's `exp`, unless the client sends a fresh one first
 * (`{"type":"auth","token":"…"}`, answered `auth.ok`), whose scope then
 * replaces the old one on the same connection.
 */
export class WebSocketEventServer {
  private readonly wss: WebSocketServer;
  private readonly unsubscribe: () => void;
  private readonly clients = new Map<WebSocket, ClientState>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;
  private readonly access: AccessControl;
  private closed = false;

  constructor(private readonly options: WebSocketEventServerOptions) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.access = options.access ?? new AccessControl(undefined, options.metrics);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: false });
    this.unsubscribe = options.hub.subscribe((event, owner) => this.broadcast(event, owner), 'websocket-events');
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatIntervalMs ?? 30_000);
    this.heartbeat.unref();
  }

  /**
   * Hand an HTTP upgrade for {@link EVENTS_PATH} to this server, for an
   * authenticated `principal`.
   * A `callId=` out of the principal's scope is accepted like an unknown or
   * future call id and delivers nothing (scope applies to every event), so
   * the answer never tells whether a call exists.
   * @throws AuthError (before upgrading) when the principal may not read events.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL, principal: Principal = ANONYMOUS_ADMIN): void {
    const subscription = parseSubscription(url);
    const refusal = this.scopeRefusal(principal);
    if (refusal !== undefined) throw this.access.forbidden('websocket', refusal);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (typeof subscription === 'string') {
        ws.close(CloseCodes.BAD_REQUEST, closeReason(subscription));
        return;
      }
      if (this.closed) {
        ws.close(CloseCodes.GOING_AWAY, 'server shutting down');
        return;
      }
      if (this.clients.size >= (this.options.maxClients ?? 1000)) {
        this.options.metrics.wsClientsDropped.inc({ reason: 'too_many_clients' });
        ws.close(CloseCodes.TRY_AGAIN_LATER, 'too many event clients');
        return;
      }
      this.accept(ws, subscription, principal);
    });
  }

  /**
   * Why `principal` may not read events at all (its role); undefined when it may. A
   * `callId` out of its scope is not a refusal: it delivers nothing, like an unknown one.
   */
  private scopeRefusal(principal: Principal): string | undefined {
    return canReadEvents(principal) ? undefined : `role ${principal.role} may not read events`;
  }

  private accept(ws: WebSocket, subscription: Subscription, principal: Principal): void {
    const state: ClientState = { seq: 0, subscription, principal, alive: true, pending: undefined, heartbeat: undefined, expiry: undefined, verifying: false, nextToken: undefined };
    this.clients.set(ws, state);
    this.options.metrics.wsClients.set(this.clients.size);
    ws.on('pong', () => {
      state.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(ws, state, data, isBinary));
    ws.on('error', (err) => {
      this.options.logger.debug({ err: err.message }, 'event client socket error');
    });
    ws.on('close', () => {
      this.forget(ws, state);
    });
    this.armExpiry(ws, state);
    if (!this.clients.has(ws)) return;
    if (subscription.heartbeatMs !== undefined) {
      state.heartbeat = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', ts: Date.now(), eventId: this.options.hub.cursor }));
      }, subscription.heartbeatMs);
      state.heartbeat.unref();
    }
    if (subscription.since !== undefined) {
      // Live events are held from now on: every later event reaches this client through `pending`, none twice.
      state.pending = [];
      this.resume(ws, state, subscription.since).catch((err: unknown) => this.options.logger.warn({ err }, 'event replay failed'));
    }
  }

  /**
   * Replays the events after `since`, then what arrived meanwhile. The
   * in-memory hub answers at once; the cluster's stream answers later, so a
   * live event held meanwhile that the replay also holds (the same eventId
   * and `ts`) is sent once, from the replay.
   */
  private async resume(ws: WebSocket, state: ClientState, since: string): Promise<void> {
    const replay = await this.options.hub.since(since);
    if (ws.readyState !== WebSocket.OPEN || !this.clients.has(ws)) return;
    if (state.pending !== undefined && state.pending.length > 0) {
      const replayed = new Map(replay.entries.map((e) => [e.event.eventId, e.event.ts]));
      // A complete replay: what is before the client's cursor it has (a cursor of an instance whose reader was ahead of this one's).
      const before = replay.gap === undefined ? since : undefined;
      state.pending = state.pending.filter((e) => replayed.get(e.event.eventId) !== e.event.ts && (before === undefined || compareEventIds(e.event.eventId, before) >= 0));
    }
    if (replay.gap === undefined) {
      this.options.metrics.eventResumes.inc({ outcome: 'complete' });
    } else {
      this.options.metrics.eventResumes.inc({ outcome: 'gap', reason: replay.gap });
      ws.send(JSON.stringify({ type: 'resume.gap', reason: replay.gap, since: since.slice(0, MAX_SINCE_ECHO), oldestEventId: replay.oldestEventId, latestEventId: replay.latestEventId }));
    }
    await this.replay(ws, state, replay.entries);
  }

  /**
   * Only `{"type":"auth","token":"…"}` is accepted from a client: a fresh
   * token for this connection. Anything else closes it (1003; 4400 for an
   * `auth` message without a token).
   */
  private onMessage(ws: WebSocket, state: ClientState, data: RawData, isBinary: boolean): void {
    const message = isBinary ? undefined : parseClientMessage(data);
    if (message === undefined) {
      this.drop(ws, CloseCodes.UNSUPPORTED_DATA, 'the only message accepted is {"type":"auth","token":"<jwt>"}', 'client_message');
      return;
    }
    if (message.token === undefined) {
      this.drop(ws, CloseCodes.BAD_REQUEST, 'an auth message needs a token (a non-empty string)', 'bad_message');
      return;
    }
    state.nextToken = message.token;
    if (!state.verifying) {
      this.refresh(ws, state).catch((err: unknown) => this.options.logger.warn({ err: errorMessage(err) }, 'event token refresh failed'));
    }
  }

  /**
   * Verifies the fresh tokens a client sent, one at a time, and puts each in
   * place of the connection's: its scope from the next event on, its `exp` as
   * the connection's end. A token that does not verify closes with 4401, one
   * that may not have this subscription with 4403.
   */
  private async refresh(ws: WebSocket, state: ClientState): Promise<void> {
    state.verifying = true;
    try {
      for (let token = state.nextToken; token !== undefined; token = state.nextToken) {
        state.nextToken = undefined;
        let principal: Principal;
        try {
          principal = await this.access.authenticate(token, 'websocket');
        } catch (err) {
          this.options.metrics.wsTokenRefreshes.inc({ outcome: 'refused' });
          this.drop(ws, CloseCodes.UNAUTHORIZED, closeReason(errorMessage(err)), 'token_refused');
          return;
        }
        if (!this.clients.has(ws)) return;
        const refusal = this.scopeRefusal(principal);
        if (refusal !== undefined) {
          this.options.metrics.wsTokenRefreshes.inc({ outcome: 'refused' });
          // Counted like a refused upgrade; the answer is the close code.
          this.access.forbidden('websocket', refusal);
          this.drop(ws, CloseCodes.FORBIDDEN, closeReason(refusal), 'token_refused');
          return;
        }
        state.principal = principal;
        this.options.metrics.wsTokenRefreshes.inc({ outcome: 'ok' });
        this.armExpiry(ws, state);
        if (this.clients.has(ws)) ws.send(JSON.stringify({ type: 'auth.ok', expiresAt: principal.expiresAt ?? null }));
      }
    } finally {
      state.verifying = false;
    }
  }

  /** (Re)arms the close at the connection's token expiry; closes at once when it has passed. */
  private armExpiry(ws: WebSocket, state: ClientState): void {
    clearTimeout(state.expiry);
    state.expiry = undefined;
    const { expiresAt } = state.principal;
    if (expiresAt === undefined) return;
    const wait = expiresAt - Date.now();
    if (wait <= 0) {
      this.drop(ws, CloseCodes.UNAUTHORIZED, 'token expired', 'token_expired');
      return;
    }
    state.expiry = setTimeout(() => this.armExpiry(ws, state), Math.min(wait, MAX_TIMER_MS));
    state.expiry.unref();
  }

  /** Sends the replay, then what arrived meanwhile, waiting for the socket to drain between events. */
  private async replay(ws: WebSocket, state: ClientState, entries: readonly HistoryEntry[]): Promise<void> {
    const deadline = Date.now() + (this.options.replayDrainTimeoutMs ?? 10_000);
    const queue = [...entries];
    for (;;) {
      const next = queue.shift() ?? state.pending?.shift();
      if (next === undefined) break;
      while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > this.maxBufferedBytes) {
        if (Date.now() > deadline) {
          this.drop(ws, CloseCodes.SLOW_CONSUMER, 'slow consumer: replay not drained in time', 'slow_consumer');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (ws.readyState !== WebSocket.OPEN || !this.clients.has(ws)) return;
      this.deliver(ws, state, next.event, next.owner);
    }
    state.pending = undefined;
  }

  private wants(state: ClientState, event: GatewayEvent, owner: CallOwner | undefined): boolean {
    const { callId, types } = state.subscription;
    if (callId !== undefined && event.callId !== callId) return false;
    if (types !== undefined && !types.has(event.type)) return false;
    return canSee(state.principal, owner);
  }

  private deliver(ws: WebSocket, state: ClientState, event: GatewayEvent, owner: CallOwner | undefined): void {
    if (!this.wants(state, event, owner)) return;
    state.seq += 1;
    ws.send(JSON.stringify({ ...event, seq: state.seq }));
  }

  private broadcast(event: GatewayEvent, owner: CallOwner | undefined): void {
    for (const [ws, state] of this.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (!this.wants(state, event, owner)) continue;
      if (state.pending !== undefined) {
        if (state.pending.length >= MAX_PENDING) this.drop(ws, CloseCodes.SLOW_CONSUMER, 'slow consumer: too many events behind its replay', 'slow_consumer');
        else state.pending.push({ event, owner });
        continue;
      }
      if (ws.bufferedAmount > this.maxBufferedBytes) {
        this.drop(ws, CloseCodes.SLOW_CONSUMER, 'slow consumer: send buffer full', 'slow_consumer');
        continue;
      }
      this.deliver(ws, state, event, owner);
    }
  }

  private drop(ws: WebSocket, code: number, reason: string, metricReason: string): void {
    const state = this.clients.get(ws);
    if (state === undefined) return;
    this.options.metrics.wsClientsDropped.inc({ reason: metricReason });
    this.forget(ws, state);
    ws.close(code, reason);
    // A peer that never completes the closing handshake must not pin the socket.
    setTimeout(() => ws.terminate(), 5000).unref();
  }

  /** Stops the connection's timers and removes it from the clients. */
  private forget(ws: WebSocket, state: ClientState): void {
    clearInterval(state.heartbeat);
    clearTimeout(state.expiry);
    this.clients.delete(ws);
    this.options.metrics.wsClients.set(this.clients.size);
  }

  private checkHeartbeats(): void {
    for (const [ws, state] of this.clients) {
      if (!state.alive) {
        this.options.metrics.wsClientsDropped.inc({ reason: 'heartbeat_timeout' });
        this.forget(ws, state);
        ws.terminate();
        continue;
      }
      state.alive = false;
      ws.ping();
    }
    this.options.metrics.wsClients.set(this.clients.size);
  }

  /** Idempotent: closes every client with 1001 and stops accepting. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const [ws, state] of this.clients) {
      clearInterval(state.heartbeat);
      clearTimeout(state.expiry);
      ws.close(CloseCodes.GOING_AWAY, 'server shutting down');
    }
    this.clients.clear();
    this.options.metrics.wsClients.set(0);
    this.wss.close();
  }
}

function parseSubscription(url: URL): Subscription | string {
  const callId = url.searchParams.get('callId') ?? undefined;
  const typesParam = url.searchParams.get('types');
  let types: Set<string> | undefined;
  if (typesParam !== null) {
    // Refused rather than read as "no type": an empty filter would deliver nothing, silently.
    if (typesParam === '') return 'types is empty: name at least one event type (docs/events.md)';
    types = new Set(typesParam.split(','));
    for (const t of types) {
      if (t === '') return 'types has an empty entry';
      if (!isEventType(t)) return `unknown event type in types: ${t.slice(0, 40)}`;
    }
  }
  // Any value: one that is not a cursor of this run gets resume.gap, never a refusal that loses the replay.
  const since = url.searchParams.get('since') ?? undefined;
  const heartbeatParam = url.searchParams.get('heartbeat');
  let heartbeatMs: number | undefined;
  if (heartbeatParam !== null) {
    const seconds = Number(heartbeatParam);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 300) return 'heartbeat must be whole seconds in [1, 300]';
    heartbeatMs = seconds * 1000;
  }
  return { callId, types, since, heartbeatMs };
}

/** A client message: an `auth` message, its token undefined when missing; undefined for anything else. */
function parseClientMessage(data: RawData): { readonly token: string | undefined } | undefined {
  if (!Buffer.isBuffer(data)) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || !('type' in message) || message.type !== 'auth') return undefined;
  const token = 'token' in message && typeof message.token === 'string' && message.token !== '' ? message.token : undefined;
  return { token };
}

