import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks 1.0 signing (https://www.standardwebhooks.com/,
 * spec/standard-webhooks.md): the secret is `whsec_` + base64 of 24 to 64
 * random bytes; each attempt carries `webhook-id` (the message id, the same
 * on every retry so the receiver can deduplicate), `webhook-timestamp` (Unix
 * seconds of the attempt) and `webhook-signature`: `v1,` + base64 of
 * HMAC-SHA256(key, `<id>.<timestamp>.<body>`) over the exact bytes sent.
 */
export const SECRET_PREFIX = 'whsec_';

const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** A new secret of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret, or a message saying what is wrong with it. */
export function webhookSecretKey(secret: string): Buffer | string {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with ${SECRET_PREFIX}`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return `must be ${SECRET_PREFIX} followed by base64`;
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) return `must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (base64 decoded), not ${key.length}`;
  return key;
}

export interface SignedHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** The three headers of one delivery attempt of `body` (sent byte for byte as signed). */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): SignedHeaders {
  const timestamp = String(Math.floor(timestampSeconds));
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
