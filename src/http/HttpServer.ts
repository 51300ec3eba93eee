import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Duplex } from 'node:stream';

/** Takes over an HTTP upgrade for one path. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** WebSocket endpoints by path. */
  readonly upgrades: ReadonlyMap<string, UpgradeHandler>;
  /** JSON snapshot of active calls for GET /v1/calls. */
  readonly listCalls: () => unknown;
}

/** The gateway's HTTP port: /metrics, /healthz, /v1/calls and the /v1/events WebSocket. */
export class HttpServer {
  private readonly server: Server;
  private closed = false;

  constructor(private readonly options: HttpServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.logger.error({ err }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const handler = options.upgrades.get(url.pathname);
      if (handler !== undefined) {
        handler(req, socket, head, url);
      } else {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }
    });
    this.server.on('clientError', (_err, socket) => {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    switch (url.pathname) {
      case '/metrics': {
        const body = await this.options.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.options.metrics.registry.contentType }).end(body);
        return;
      }
      case '/healthz':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
        return;
      case '/v1/calls':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.options.listCalls()));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  /** Idempotent. Stops accepting and closes idle keep-alive sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    await done;
  }
}
