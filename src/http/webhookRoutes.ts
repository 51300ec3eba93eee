import type { IncomingMessage } from 'node:http';
import { GatewayError, invalidArgument } from '../errors.js';
import type { DeadLetter, Delivery } from '../webhooks/DeliveryStore.js';
import type { WebhookDispatcher } from '../webhooks/WebhookDispatcher.js';

/** The admin API of webhooks (admin role): subscriptions, their queues and dead letters. */
export const WEBHOOKS_PATH = '/v1/admin/webhooks';

const SUBSCRIPTION = /^\/v1\/admin\/webhooks\/([A-Za-z0-9_-]{1,64})$/;
const DEAD_LETTERS = /^\/v1\/admin\/webhooks\/([A-Za-z0-9_-]{1,64})\/dead-letters$/;
const REDELIVER = /^\/v1\/admin\/webhooks\/([A-Za-z0-9_-]{1,64})\/dead-letters\/([^/]{1,200})\/redeliver$/;

/** Largest request body of the admin API: a subscription is well under it. */
const MAX_BODY_BYTES = 64 * 1024;

export interface WebhookAnswer {
  readonly status: number;
  readonly body: unknown;
  /** Set when the method is not one the path takes: answered 405 with these. */
  readonly allow?: string;
}

/**
 * One request of the webhook admin API, already authenticated as an admin.
 * Undefined when the path is none of its own (the caller answers 404).
 *
 * - GET /v1/admin/webhooks: every subscription with its queue depth, calls in flight, delivered, failed attempts, last failure, dead letters
 * - POST /v1/admin/webhooks: create (JSON { id, url, secret?, types?, queues? }); 201 with the secret, shown only then
 * - DELETE /v1/admin/webhooks/{id}: delete an API subscription with its queue (204)
 * - GET /v1/admin/webhooks/{id}/dead-letters: its dead letters, oldest first
 * - POST /v1/admin/webhooks/{id}/dead-letters/{deliveryId}/redeliver: back to the end of its call's queue (202)
 */
export async function webhookRoute(request: IncomingMessage, url: URL, webhooks: WebhookDispatcher): Promise<WebhookAnswer | undefined> {
  const method = request.method ?? 'GET';
  if (url.pathname === WEBHOOKS_PATH) {
    if (method === 'GET') return { status: 200, body: { subscriptions: webhooks.list() } };
    if (method === 'POST') {
      const created = webhooks.create(await readJson(request));
      return { status: 201, body: { ...created.subscription, secret: created.secret } };
    }
    return { status: 405, body: null, allow: 'GET, POST' };
  }
  const subscription = SUBSCRIPTION.exec(url.pathname);
  if (subscription !== null) {
    if (method !== 'DELETE') return { status: 405, body: null, allow: 'DELETE' };
    webhooks.remove(subscription[1] ?? '');
    return { status: 204, body: null };
  }
  const dead = DEAD_LETTERS.exec(url.pathname);
  if (dead !== null) {
    if (method !== 'GET') return { status: 405, body: null, allow: 'GET' };
    return { status: 200, body: { deadLetters: webhooks.deadLetters(dead[1] ?? '').map(withoutBody) } };
  }
  const redeliver = REDELIVER.exec(url.pathname);
  if (redeliver !== null) {
    if (method !== 'POST') return { status: 405, body: null, allow: 'POST' };
    return { status: 202, body: withoutBody(webhooks.redeliver(redeliver[1] ?? '', decodeURIComponent(redeliver[2] ?? ''))) };
  }
  return undefined;
}

/** A delivery as the admin API shows it: the event's body is left out (it can be large, and it is the event itself). */
function withoutBody(delivery: Delivery | DeadLetter): Record<string, unknown> {
  return Object.fromEntries(Object.entries(delivery).filter(([key]) => key !== 'body'));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new GatewayError('SGW_PAYLOAD_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw invalidArgument('body', 'must be JSON');
  }
}
