import net from 'node:net';
import type { CallManager } from '../../calls/CallManager.js';
import type { Logger } from '../../logger.js';
import type { LogLimiter } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { EventFeed } from '../../calls/EventBus.js';
import { AudioSocketCalls, type AudioSocketCallDefaults, type AudioSocketLegMode } from './AudioSocketCalls.js';
import { AudioSocketConnection } from './AudioSocketConnection.js';

export interface AudioSocketServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly calls: CallManager;
  readonly hub: EventFeed;
  readonly defaults: AudioSocketCallDefaults;
  /** How UUIDs map to legs (AUDIOSOCKET_LEGS); default `customer`. */
  readonly legMode?: AudioSocketLegMode;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Bad input that closes a connection is logged once per client address a window. */
  readonly logLimiter: LogLimiter;
  /** A connection silent this long is closed (the gateway uses RTP_TIMEOUT_MS). */
  readonly idleTimeoutMs: number;
  /** Open connections beyond this are refused at accept (counted as `too_many_connections`). */
  readonly maxConnections?: number;
  readonly maxPayload?: number;
}

/**
 * The Asterisk AudioSocket listener (TCP): one connection per streamed
 * channel, see {@link AudioSocketConnection}.
 *
 * @see [AudioSocket protocol](https://docs.asterisk.org/Configuration/Channel-Drivers/AudioSocket/)
 */
export class AudioSocketServer {
  private readonly server: net.Server;
  private readonly connections = new Set<AudioSocketConnection>();
  private readonly unsubscribe: () => void;
  private readonly calls: AudioSocketCalls;

  constructor(private readonly options: AudioSocketServerOptions) {
    this.calls = new AudioSocketCalls(options.calls, options.defaults);
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = options.maxConnections ?? 1000;
    this.server.on('drop', () => options.metrics.audioSocketErrors.inc({ reason: 'too_many_connections' }));
    // A call ended by EndCall, the inactivity watchdog or shutdown releases its client.
    this.unsubscribe = options.hub.subscribe((event) => {
      if (event.type !== 'call.ended') return;
      this.calls.forget(event.callId);
      for (const connection of this.connections) if (connection.callId === event.callId) connection.callEnded();
    }, 'audiosocket');
  }

  listen(): Promise<net.AddressInfo> {
    const { server, options } = this;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        server.on('error', (err) => options.logger.error({ err }, 'AudioSocket listener error'));
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  private accept(socket: net.Socket): void {
    const { options } = this;
    const connection = new AudioSocketConnection({
      socket,
      calls: this.calls,
      legMode: options.legMode ?? 'customer',
      metrics: options.metrics,
      logger: options.logger,
      logLimiter: options.logLimiter,
      idleTimeoutMs: options.idleTimeoutMs,
      ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
      onClosed: (c) => {
        this.connections.delete(c);
        options.metrics.audioSocketConnections.set(this.connections.size);
      },
    });
    this.connections.add(connection);
    options.metrics.audioSocketConnections.set(this.connections.size);
  }

  /** Stops accepting and drops every connection (their calls end as streams closed, or by the shutdown that follows). */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const connection of this.connections) connection.callEnded();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
