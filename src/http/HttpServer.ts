import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { AccessControl, bearerToken } from '../auth/AccessControl.js';
import { ANONYMOUS_ADMIN, type Principal } from '../auth/Principal.js';
import { canAcknowledge, canOperate } from '../auth/scope.js';
import { AuthError } from '../auth/TokenVerifier.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Alerts } from '../push/AlertStore.js';
import type { Drain } from '../Drain.js';
import type { Readiness } from '../Readiness.js';
import { CONTENT_SECURITY_POLICY, type StaticFiles } from './StaticFiles.js';
import type { WebhookDispatcher } from '../webhooks/WebhookDispatcher.js';
import { WEBHOOKS_PATH, webhookRoute } from './webhookRoutes.js';
import type { CallRecordRoutes } from './CallRecordRoutes.js';

/** Takes over an HTTP upgrade for one path, for an authenticated principal; may throw a GatewayError to refuse it before upgrading. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL, principal: Principal) => void;

/** Takes over an HTTP upgrade for one path and checks the client's credentials itself; throws a GatewayError to refuse. */
export type SelfAuthenticatedUpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** WebSocket endpoints by path. */
  readonly upgrades: ReadonlyMap<string, UpgradeHandler>;
  /**
   * WebSocket endpoints that authenticate the upgrade themselves (AudioHook's
   * X-API-KEY, a Twilio stream token): matched on the exact path or a path
   * below it (`/v1/twilio/<token>`); the handler may throw a GatewayError to
   * refuse before upgrading, answered like a token refusal.
   */
  readonly selfAuthenticatedUpgrades?: ReadonlyMap<string, SelfAuthenticatedUpgradeHandler>;
  /** JSON snapshot of the active calls `principal` may see, for GET /v1/calls (in a cluster: of every gateway). */
  readonly listCalls: (principal: Principal) => unknown;
  /** Authentication; default off (every request acts as an admin). */
  readonly access?: AccessControl;
  /** Recent alerts for GET /v1/alerts and POST /v1/alerts/{id}/ack; absent: 404. */
  readonly alerts?: Alerts;
  /** The checks of GET /readyz; absent: always ready (no checks). */
  readonly readiness?: Readiness;
  /** The drain of POST/GET /v1/admin/drain (admin role); absent: 404. */
  readonly drain?: Pick<Drain, 'start' | 'status'>;
  /** Webhook subscriptions for /v1/admin/webhooks (admin role); absent: 404. */
  readonly webhooks?: WebhookDispatcher;
  /** The event hub's cursor, returned with snapshots so a client can resume /v1/events after them. */
  readonly eventCursor?: () => string;
  /** A cursor before every event the hub can replay (EventSource.origin), returned with snapshots. */
  readonly eventOrigin?: () => string;
  /** Finished calls' records and the insights API (`/v1/calls/{id}`, `/v1/insights/contact-reasons`); absent: 404. */
  readonly callRecords?: CallRecordRoutes;
  /** The agent and supervisor pages; absent: 404. */
  readonly pages?: StaticFiles;
  /** Serve HTTPS (and WSS) with this certificate and key (PEM). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/** Header carrying the hub's eventId at the time of a snapshot: resume /v1/events with `since=` it. */
export const EVENT_CURSOR_HEADER = 'x-sgw-event-cursor';
/** Header carrying a cursor before every event the hub can replay: `since=` it replays all it retains. */
export const EVENT_ORIGIN_HEADER = 'x-sgw-event-origin';

const ACK_PATH = /^\/v1\/alerts\/([A-Za-z0-9-]{1,64})\/ack$/;

/** POST: start draining this instance (202 with its status); GET: the drain's progress. Admin role. */
export const DRAIN_PATH = '/v1/admin/drain';

/**
 * The gateway's HTTP(S) port: /metrics, /healthz (liveness) and /readyz
 * (readiness) open, the pages (static, no data in them), /v1/calls and
 * /v1/alerts (bearer token, scoped), finished calls' records and the
 * insights API (CallRecordRoutes, scoped), /v1/admin/drain (admin), and the
 * WebSocket endpoints (token checked before the upgrade).
 */
export class HttpServer {
  private readonly server: Server;
  private readonly access: AccessControl;
  private closed = false;

  constructor(private readonly options: HttpServerOptions) {
    this.access = options.access ?? new AccessControl(undefined, options.metrics);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof GatewayError) {
          this.sendError(res, err);
          return;
        }
        options.logger.error({ err }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    };
    this.server = options.tls === undefined ? createServer(handler) : createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', (err) => options.logger.debug({ err: err.message }, 'upgrade socket error'));
      this.upgrade(req, socket, head).catch((err: unknown) => {
        options.logger.error({ err }, 'upgrade failed');
        socket.destroy();
      });
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

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const selfAuthenticated = this.selfAuthenticatedHandler(url.pathname);
    const handler = this.options.upgrades.get(url.pathname);
    if (handler === undefined && selfAuthenticated === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    try {
      if (selfAuthenticated !== undefined) {
        selfAuthenticated(req, socket, head, url);
        return;
      }
      if (handler === undefined) return;
      // Browsers cannot set headers on a WebSocket: they send the token as `access_token`.
      const principal = await this.access.authenticate(bearerToken(req.headers.authorization) ?? url.searchParams.get('access_token') ?? undefined, 'websocket');
      handler(req, socket, head, url, principal);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      const body = JSON.stringify({ error: { code: err.code, message: err.message } });
      const headers = [
        `HTTP/1.1 ${err.httpStatus} ${err.httpStatus === 401 ? 'Unauthorized' : err.httpStatus === 403 ? 'Forbidden' : 'Error'}`,
        'connection: close',
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        ...(err.httpStatus === 401 ? [`www-authenticate: ${wwwAuthenticate(err)}`] : []),
      ];
      socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
    }
  }

  private selfAuthenticatedHandler(pathname: string): SelfAuthenticatedUpgradeHandler | undefined {
    const handlers = this.options.selfAuthenticatedUpgrades;
    if (handlers === undefined) return undefined;
    const exact = handlers.get(pathname);
    if (exact !== undefined) return exact;
    for (const [path, handler] of handlers) if (pathname.startsWith(`${path}/`)) return handler;
    return undefined;
  }

  private async principal(req: IncomingMessage): Promise<Principal> {
    if (!this.access.enabled) return ANONYMOUS_ADMIN;
    return this.access.authenticate(bearerToken(req.headers.authorization), 'http');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ack = ACK_PATH.exec(url.pathname);
    if (ack !== null) {
      if (req.method !== 'POST') return this.methodNotAllowed(res, 'POST');
      await this.acknowledge(req, res, ack[1] ?? '');
      return;
    }
    if (url.pathname === DRAIN_PATH && this.options.drain !== undefined) {
      if (req.method !== 'POST' && req.method !== 'GET') return this.methodNotAllowed(res, 'GET, POST');
      await this.drain(req, res, this.options.drain);
      return;
    }
    if ((url.pathname === WEBHOOKS_PATH || url.pathname.startsWith(`${WEBHOOKS_PATH}/`)) && this.options.webhooks !== undefined) {
      await this.webhooks(req, res, url, this.options.webhooks);
      return;
    }
    const records = this.options.callRecords;
    if (records?.matches(url.pathname)) {
      // No body is read: none of these routes takes one.
      req.resume();
      await records.handle(req, res, url, await this.principal(req), (r, status, body) => this.sendJson(r, status, body));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.methodNotAllowed(res, 'GET, HEAD');
    switch (url.pathname) {
      case '/metrics': {
        const body = await this.options.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.options.metrics.registry.contentType }).end(body);
        return;
      }
      case '/healthz':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
        return;
      case '/readyz': {
        const report = (await this.options.readiness?.report()) ?? { ready: true, checks: {} };
        this.sendJson(res, report.ready ? 200 : 503, report);
        return;
      }
      case '/v1/calls': {
        const principal = await this.principal(req);
        // The cursor before the snapshot: events after it are replayed, none missed.
        const cursor = this.options.eventCursor?.();
        this.sendJson(res, 200, await this.options.listCalls(principal), this.cursorHeaders(cursor));
        return;
      }
      case '/v1/alerts': {
        const alerts = this.options.alerts;
        if (alerts === undefined) break;
        const principal = await this.principal(req);
        const cursor = this.options.eventCursor?.();
        const unackedOnly = url.searchParams.get('unacked') === '1' || url.searchParams.get('unacked') === 'true';
        this.sendJson(res, 200, { cursor: cursor ?? null, alerts: await alerts.list(principal, { unackedOnly }) }, this.cursorHeaders(cursor));
        return;
      }
      default: {
        const file = this.options.pages?.get(url.pathname);
        if (file === undefined) break;
        const headers = {
          'content-type': file.contentType,
          etag: file.etag,
          // Revalidated every time (cheap 304s), so a new version is never mixed with a cached old one.
          'cache-control': 'no-cache',
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'x-frame-options': 'DENY',
        };
        if (req.headers['if-none-match'] === file.etag) {
          res.writeHead(304, headers).end();
          return;
        }
        res.writeHead(200, { ...headers, 'content-length': file.body.length }).end(req.method === 'HEAD' ? undefined : file.body);
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  private async acknowledge(req: IncomingMessage, res: ServerResponse, alertId: string): Promise<void> {
    const alerts = this.options.alerts;
    if (alerts === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    req.resume();
    const principal = await this.principal(req);
    // An alert it cannot see is not found; one it sees but may not acknowledge (an agent's own call) is forbidden.
    const alert = await alerts.get(alertId, principal);
    if (!canAcknowledge(principal, alert.queue)) throw this.access.forbidden('http', `alert ${alertId} is not in a queue this token supervises`);
    this.sendJson(res, 200, await alerts.acknowledge(alertId, principal));
  }

  private cursorHeaders(cursor: string | undefined): Record<string, string> {
    const origin = this.options.eventOrigin?.();
    return { ...(cursor === undefined ? {} : { [EVENT_CURSOR_HEADER]: cursor }), ...(origin === undefined ? {} : { [EVENT_ORIGIN_HEADER]: origin }) };
  }

  private async drain(req: IncomingMessage, res: ServerResponse, drain: Pick<Drain, 'start' | 'status'>): Promise<void> {
    // No body is read: the drain takes no parameters.
    req.resume();
    const principal = await this.principal(req);
    if (!canOperate(principal)) throw this.access.forbidden('http', `the drain needs role admin, not ${principal.role}`);
    if (req.method === 'POST') this.sendJson(res, 202, drain.start('admin', principal.subject));
    else this.sendJson(res, 200, drain.status());
  }

  private async webhooks(req: IncomingMessage, res: ServerResponse, url: URL, webhooks: WebhookDispatcher): Promise<void> {
    const principal = await this.principal(req);
    if (!canOperate(principal)) throw this.access.forbidden('http', `webhook administration needs role admin, not ${principal.role}`);
    const answer = await webhookRoute(req, url, webhooks);
    if (answer === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (answer.allow !== undefined) return this.methodNotAllowed(res, answer.allow);
    if (answer.status === 204) {
      res.writeHead(204, { 'cache-control': 'no-store' }).end();
      return;
    }
    this.sendJson(res, answer.status, answer.body);
  }

  private methodNotAllowed(res: ServerResponse, allow: string): void {
    res.writeHead(405, { allow, 'content-type': 'text/plain' }).end('method not allowed\n');
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
  }

  private sendError(res: ServerResponse, err: GatewayError): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const headers: Record<string, string> = err.httpStatus === 401 ? { 'www-authenticate': wwwAuthenticate(err) } : {};
    this.sendJson(res, err.httpStatus, { error: { code: err.code, message: err.message } }, headers);
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

/** RFC 6750 §3: the challenge of a 401. */
function wwwAuthenticate(err: GatewayError): string {
  if (err instanceof AuthError && err.reason !== 'missing') return `Bearer realm="speech-gateway", error="invalid_token", error_description="${err.message.replace(/["\\]/g, "'").slice(0, 200)}"`;
  return 'Bearer realm="speech-gateway"';
}
