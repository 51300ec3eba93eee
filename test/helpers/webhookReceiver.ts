/**
 * A webhook receiver for tests: a real node:http server that records every
 * request (headers, raw body, the answer it gave) and answers as the test
 * says: 2xx, an error status, or never (hang, until the client gives up).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Answer = number | 'hang';

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly answer: Answer;
  readonly at: number;
}

/** The envelope the gateway sends: Standard Webhooks' type/timestamp/data around the event. */
export interface WebhookBody {
  readonly type: string;
  readonly timestamp: string;
  readonly data: { readonly type: string; readonly callId: string; readonly eventId: string; readonly [key: string]: unknown };
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Decides each answer; default 204. */
  answer: (body: WebhookBody, path: string) => Answer = () => 204;
  private readonly hanging = new Set<ServerResponse>();
  private readonly waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = receiver.answer(JSON.parse(body) as WebhookBody, req.url ?? '/');
        receiver.requests.push({ path: req.url ?? '/', headers: req.headers, body, answer, at: Date.now() });
        if (answer === 'hang') receiver.hanging.add(res);
        else res.writeHead(answer).end();
        receiver.check();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Requests answered 2xx on `path`, in arrival order, as parsed bodies. */
  accepted(path = '/hook'): WebhookBody[] {
    return this.requests.filter((r) => r.path === path && typeof r.answer === 'number' && r.answer < 300).map((r) => JSON.parse(r.body) as WebhookBody);
  }

  /** Resolves when `predicate` holds (checked at each request), or rejects after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private check(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Verifies a request with the Standard Webhooks reference library (not the
 * gateway's code): throws when the signature, id or timestamp does not verify.
 */
export function verifyStandardWebhook(secret: string, request: ReceivedRequest): unknown {
  const header = (name: string): string => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : '';
  };
  return new Webhook(secret).verify(request.body, {
    'webhook-id': header('webhook-id'),
    'webhook-timestamp': header('webhook-timestamp'),
    'webhook-signature': header('webhook-signature'),
  });
}
