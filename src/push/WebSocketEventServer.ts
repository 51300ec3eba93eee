import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventHub } from './EventHub.js';
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
  /**
   * Per-client send buffer limit. A client whose unsent bytes exceed it is
   * closed with 4008 rather than letting the gateway's memory grow.
   */
  readonly maxBufferedBytes?: number;
  readonly heartbeatIntervalMs?: number;
  /** Connected clients at most; one more is closed with 1013 (default 1000). */
  readonly maxClients?: number;
}

const EVENT_TYPES: ReadonlySet<string> = new Set<GatewayEventType>([
  'call.started',
  'transcript',
  'transcript.gap',
  'intent',
  'prompt',
  'sentiment',
  'escalation',
  'alert',
  'call.ended',
  'call.summary',
]);

interface Subscription {
  readonly callId: string | undefined;
  readonly types: ReadonlySet<string> | undefined;
}

/**
 * `/v1/events`: every gateway event as a JSON text message with a
 * per-connection increasing `seq`. Optional query filters: `callId=<id>`,
 * `types=transcript,intent`.
 */
export class WebSocketEventServer {
  private readonly wss: WebSocketServer;
  private readonly unsubscribe: () => void;
  private readonly clients = new Map<WebSocket, { seq: number; subscription: Subscription; alive: boolean }>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;
  private closed = false;

  constructor(private readonly options: WebSocketEventServerOptions) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: false });
    this.unsubscribe = options.hub.subscribe((event) => this.broadcast(event));
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatIntervalMs ?? 30_000);
    this.heartbeat.unref();
  }

  /** Hand an HTTP upgrade for {@link EVENTS_PATH} to this server. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
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
      this.accept(ws, subscription);
    });
  }

  private accept(ws: WebSocket, subscription: Subscription): void {
    const state = { seq: 0, subscription, alive: true };
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
      this.clients.delete(ws);
      this.options.metrics.wsClients.set(this.clients.size);
    });
  }

  private broadcast(event: GatewayEvent): void {
    for (const [ws, state] of this.clients) {
      const { callId, types } = state.subscription;
      if (callId !== undefined && event.callId !== callId) continue;
      if (types !== undefined && !types.has(event.type)) continue;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > this.maxBufferedBytes) {
        this.drop(ws, CloseCodes.SLOW_CONSUMER, 'slow consumer: send buffer full', 'slow_consumer');
        continue;
      }
      state.seq += 1;
      ws.send(JSON.stringify({ ...event, seq: state.seq }));
    }
  }

  private drop(ws: WebSocket, code: number, reason: string, metricReason: string): void {
    this.options.metrics.wsClientsDropped.inc({ reason: metricReason });
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
    for (const ws of this.clients.keys()) ws.close(CloseCodes.GOING_AWAY, 'server shutting down');
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
  return { callId, types };
}
