import { createHash } from 'node:crypto';
import type { Principal } from './Principal.js';

/**
 * Who a call is counted against for MAX_CALLS_PER_CREDENTIAL: a stable name
 * of the credential that started it, safe to log (a shared secret appears
 * only as a short fingerprint).
 */
export type Credential = string;

/** A bearer token's credential: its subject (`anonymous` with authentication off). */
export function principalCredential(principal: Principal): Credential {
  return `sub:${principal.subject}`;
}

/** A shared secret (AudioHook API key, Twilio stream token) as a credential: its kind and a fingerprint, never the secret. */
export function secretCredential(kind: string, secret: string): Credential {
  return `${kind}:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}
