import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AccessControl } from '../auth/AccessControl.js';
import { ANONYMOUS_ADMIN, type CallOwner, type Principal } from '../auth/Principal.js';
import { canReadEvents, canSee } from '../auth/scope.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventHub, HistoryEntry } from './EventHub.js';
import type { GatewayEvent, GatewayEventType } from './events.js';

export const EVENTS_PATH = '/v1/events';

/** Close codes used on /v1/events (RFC 6455 §7.4; 4000-4999 are ours). */
export const CloseCodes = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** The client sent data; this endpoint is push-only. */
  UNSUPPORTED_DATA: 1003,
  /** The client did not keep up: its send buffer passed the limit. */
  SLOW_CONSUMER: 4008,
  /** Bad query parameters. */
  BAD_REQUEST: 4400,
  /** Too many event clients connected; retry later (RFC 6455 §7.4.1 "Try Again Later"). */
  TRY_AGAIN_LATER: 1013,
} as const;

export interface WebSocketEventServerOptions {
  readonly hub: EventHub;
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

export const EVENT_TYPES: ReadonlySet<string> = new Set<GatewayEventType>([
  'call.started',
  'transcript',
  'transcript.gap',
  'intent',
  'prompt',
  'sentiment',
  'escalation',
  'alert',
  'alert.ack',
  'call.ended',
  'call.summary',
]);

interface Subscription {
  readonly callId: string | undefined;
  readonly types: ReadonlySet<string> | undefined;
  /** Replay retained events after this eventId before going live. */
  readonly since: number | undefined;
  /** Send a `heartbeat` message every this many ms (browsers cannot see WebSocket pings). */
  readonly heartbeatMs: number | undefined;
}

interface ClientState {
  seq: number;
  alive: boolean;
  readonly subscription: Subscription;
  readonly principal: Principal;
  /** Live events held back while the client's replay is still being sent; undefined once live. */
  pending: HistoryEntry[] | undefined;
  heartbeat: NodeJS.Timeout | undefined;
}

/** Live events a replaying client may have held back before it counts as a slow consumer. */
const MAX_PENDING = 10_000;

/**
 * `/v1/events`: gateway events as JSON text messages with a per-connection
 * increasing `seq` and the hub's `eventId` cursor. A connection sees only the
 * calls its principal may see (agent: own calls, supervisor: its queues,
 * admin: all). Query: `callId=<id>`, `types=transcript,intent`,
 * `since=<eventId>` (replay retained events after the cursor first; a
 * `resume.gap` message says when some are gone), `heartbeat=<s>` (a
 * `heartbeat` message every s seconds).
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
    this.unsubscribe = options.hub.subscribe((event, owner) => this.broadcast(event, owner));
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
    if (!canReadEvents(principal)) throw this.access.forbidden('websocket', `role ${principal.role} may not read events`);
    const subscription = parseSubscription(url);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (typeof subscription === 'string') {
        ws.close(CloseCodes.BAD_REQUEST, subscription);
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

  private accept(ws: WebSocket, subscription: Subscription, principal: Principal): void {
    const state: ClientState = { seq: 0, subscription, principal, alive: true, pending: undefined, heartbeat: undefined };
    this.clients.set(ws, state);
    this.options.metrics.wsClients.set(this.clients.size);
    ws.on('pong', () => {
      state.alive = true;
    });
    ws.on('message', () => {
      this.drop(ws, CloseCodes.UNSUPPORTED_DATA, 'this endpoint does not accept messages', 'client_message');
    });
    ws.on('error', (err) => {
      this.options.logger.debug({ err: err.message }, 'event client socket error');
    });
    ws.on('close', () => {
      clearInterval(state.heartbeat);
      this.clients.delete(ws);
      this.options.metrics.wsClients.set(this.clients.size);
    });
    if (subscription.heartbeatMs !== undefined) {
      state.heartbeat = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', ts: Date.now(), eventId: this.options.hub.cursor }));
      }, subscription.heartbeatMs);
      state.heartbeat.unref();
    }
    if (subscription.since !== undefined) {
      // Taken synchronously: every later event reaches this client through `pending`, none twice.
      const replay = this.options.hub.since(subscription.since);
      state.pending = [];
      this.options.metrics.eventResumes.inc({ outcome: replay.gap ? 'gap' : 'complete' });
      if (replay.gap) {
        ws.send(JSON.stringify({ type: 'resume.gap', since: subscription.since, oldestEventId: replay.oldestEventId, latestEventId: replay.latestEventId }));
      }
      this.replay(ws, state, replay.entries).catch((err: unknown) => this.options.logger.warn({ err }, 'event replay failed'));
    }
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
    this.options.metrics.wsClientsDropped.inc({ reason: metricReason });
    const state = this.clients.get(ws);
    clearInterval(state?.heartbeat);
    this.clients.delete(ws);
    this.options.metrics.wsClients.set(this.clients.size);
    ws.close(code, reason);
    // A peer that never completes the closing handshake must not pin the socket.
    setTimeout(() => ws.terminate(), 5000).unref();
  }

  private checkHeartbeats(): void {
    for (const [ws, state] of this.clients) {
      if (!state.alive) {
        this.options.metrics.wsClientsDropped.inc({ reason: 'heartbeat_timeout' });
        clearInterval(state.heartbeat);
        this.clients.delete(ws);
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
    types = new Set(typesParam.split(',').filter((t) => t.length > 0));
    for (const t of types) if (!EVENT_TYPES.has(t)) return `unknown event type in types: ${t.slice(0, 40)}`;
  }
  const sinceParam = url.searchParams.get('since');
  let since: number | undefined;
  if (sinceParam !== null) {
    since = Number(sinceParam);
    if (sinceParam === '' || !Number.isSafeInteger(since) || since < 0) return 'since must be an eventId (an integer >= 0)';
  }
  const heartbeatParam = url.searchParams.get('heartbeat');
  let heartbeatMs: number | undefined;
  if (heartbeatParam !== null) {
    const seconds = Number(heartbeatParam);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 300) return 'heartbeat must be whole seconds in [1, 300]';
    heartbeatMs = seconds * 1000;
  }
  return { callId, types, since, heartbeatMs };
}
