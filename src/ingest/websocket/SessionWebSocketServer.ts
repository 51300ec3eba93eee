import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LogLimiter } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import { closeReason } from '../../websocketCloseReason.js';

/** A protocol session on one WebSocket; ended by the server on shutdown. */
export interface WebSocketSession {
  shutdown(): void;
}

export interface SessionWebSocketServerOptions {
  /** The `protocol` label of `sgw_ingest_protocol_errors_total`. */
  readonly protocol: 'audiohook' | 'twilio' | 'audio-fork';
  /** Largest frame; ws refuses a bigger one from its length field with close code 1009. */
  readonly maxPayload: number;
  readonly metrics: GatewayMetrics;
  /** Socket-level errors are logged once per client address a window. */
  readonly logLimiter: LogLimiter;
  /** Throws a GatewayError when no new call may come in (the gateway drains): the socket is closed with 1013 at once. */
  readonly admit?: () => void;
}

/** RFC 6455 "Try Again Later": the close of a connection refused while the gateway drains. */
export const TRY_AGAIN_LATER = 1013;

/**
 * What the streaming-ingest WebSocket endpoints (AudioHook, Twilio) share:
 * the upgrade after the protocol's own authentication, socket-level errors
 * counted by reason, the set of live sessions, and a close() that shuts
 * each of them down. Idempotent close.
 */
export class SessionWebSocketServer<S extends WebSocketSession> {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<WebSocket, S>();
  private closed = false;

  constructor(private readonly options: SessionWebSocketServerOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, clientTracking: false, perMessageDeflate: false });
  }

  /**
   * Upgrades and hands the socket to `createSession` with the client's
   * `ip:port` and its address alone (`source`, the key of rate-limited log
   * lines); after close() the socket is closed with 1001, while the gateway
   * drains with 1013 and the refusal (`SGW_DRAINING: …`) as the reason.
   */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer, logger: Logger, createSession: (ws: WebSocket, remote: string | undefined, source: string) => S): void {
    const remote = request.socket.remoteAddress === undefined ? undefined : `${request.socket.remoteAddress}:${request.socket.remotePort ?? 0}`;
    const source = request.socket.remoteAddress ?? '?';
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (this.closed) {
        ws.close(1001, 'server shutting down');
        return;
      }
      try {
        this.options.admit?.();
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        // Upgraded first: a WebSocket client (Genesys, Twilio) sees a close code and reason, not a bare HTTP status.
        ws.close(TRY_AGAIN_LATER, closeReason(`${err.code}: ${err.message}`));
        return;
      }
      ws.on('error', (err: Error & { code?: string }) => {
        // ws has already closed the socket with the matching code (1009 too big, 1007 bad UTF-8, 1002 bad frame).
        const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame-too-big' : `websocket:${(err.code ?? 'error').replace(/^WS_ERR_/, '').toLowerCase()}`;
        this.options.metrics.ingestProtocolErrors.inc({ protocol: this.options.protocol, reason });
        this.options.logLimiter.log(logger, 'warn', 'ingest-socket-error', source, { reason, err: err.message }, `${this.options.protocol} socket error`);
      });
      this.sessions.set(ws, createSession(ws, remote, source));
      ws.on('close', () => this.sessions.delete(ws));
    });
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const session of this.sessions.values()) session.shutdown();
    this.sessions.clear();
    this.wss.close();
  }
}

/** A request header's first value. */
export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
