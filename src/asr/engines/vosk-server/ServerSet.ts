/**
 * The speech servers of one language and what the gateway knows about them:
 * round-robin choice among the healthy ones, and health checks (a WebSocket
 * opened and closed) that bring a server marked down back, with backoff.
 */
import WebSocket from 'ws';
import type { Logger } from '../../../logger.js';
import { voskMessageKind } from '../vosk/result.js';
import { EOF, rawText } from './protocol.js';

export interface ServerSetOptions {
  readonly urls: readonly string[];
  readonly logger: Logger;
  /** Period of the health check of servers that are up. Default 10 s. */
  readonly healthIntervalMs?: number;
  /** A connection or health check that has not opened after this long failed. Default 3 s. */
  readonly connectTimeoutMs?: number;
  /** Called whenever the number of healthy servers changes. */
  readonly onChange?: (up: number) => void;
}

interface Server {
  readonly url: string;
  up: boolean;
  /** Consecutive failures: the retry delay doubles with each, up to 30 s. */
  failures: number;
  timer?: NodeJS.Timeout;
}

const MAX_RETRY_MS = 30_000;

export class ServerSet {
  private readonly servers: Server[];
  private next = 0;
  private closed = false;

  constructor(private readonly options: ServerSetOptions) {
    this.servers = options.urls.map((url) => ({ url, up: true, failures: 0 }));
    for (const server of this.servers) this.schedule(server, this.healthIntervalMs);
  }

  get size(): number {
    return this.servers.length;
  }

  get upCount(): number {
    return this.servers.filter((s) => s.up).length;
  }

  /** The next healthy server after the last one given, skipping `exclude` when another is up; undefined when none is up. */
  pick(exclude?: string): string | undefined {
    const n = this.servers.length;
    let fallback: string | undefined;
    for (let i = 0; i < n; i++) {
      const server = this.servers[(this.next + i) % n];
      if (server === undefined || !server.up) continue;
      if (server.url === exclude) {
        fallback = server.url;
        continue;
      }
      this.next = (this.next + i + 1) % n;
      return server.url;
    }
    return fallback;
  }

  /** A connection to `url` worked: it is up. */
  markUp(url: string): void {
    const server = this.find(url);
    if (server === undefined || (server.up && server.failures === 0)) return;
    const changed = !server.up;
    server.up = true;
    server.failures = 0;
    this.schedule(server, this.healthIntervalMs);
    if (changed) {
      this.options.logger.info({ server: url }, 'speech server is back');
      this.options.onChange?.(this.upCount);
    }
  }

  /** `url` failed (refused, stalled, answered garbage, died): no new streams go there until a health check succeeds. */
  markDown(url: string, reason: string): void {
    const server = this.find(url);
    if (server === undefined) return;
    server.failures++;
    if (server.up) {
      server.up = false;
      this.options.logger.warn({ server: url, reason }, 'speech server marked down');
      this.options.onChange?.(this.upCount);
    }
    this.schedule(server, this.retryDelay(server));
  }

  close(): void {
    this.closed = true;
    for (const server of this.servers) clearTimeout(server.timer);
  }

  private get healthIntervalMs(): number {
    return this.options.healthIntervalMs ?? 10_000;
  }

  private retryDelay(server: Server): number {
    return Math.min(MAX_RETRY_MS, 500 * 2 ** Math.min(10, server.failures - 1));
  }

  private find(url: string): Server | undefined {
    return this.servers.find((s) => s.url === url);
  }

  private schedule(server: Server, delayMs: number): void {
    clearTimeout(server.timer);
    if (this.closed) return;
    server.timer = setTimeout(() => void this.check(server), delayMs);
    server.timer.unref();
  }

  private async check(server: Server): Promise<void> {
    const ok = await probe(server.url, this.options.connectTimeoutMs ?? 3000);
    if (this.closed) return;
    if (ok) this.markUp(server.url);
    else this.markDown(server.url, 'health check failed');
    if (ok) this.schedule(server, this.healthIntervalMs);
  }
}

/**
 * A health check in the protocol itself: a connection that takes `{"eof" : 1}`
 * and answers with a final result in time. A server that accepts connections
 * but no longer recognises (overloaded, wedged) fails it.
 */
function probe(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      ws.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    ws.once('open', () => ws.send(EOF));
    ws.once('message', (data: WebSocket.RawData) => done(voskMessageKind(rawText(data)) === 'final'));
    ws.once('error', () => done(false));
    ws.once('close', () => done(false));
  });
}
