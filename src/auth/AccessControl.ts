import type { GatewayMetrics } from '../metrics.js';
import { ANONYMOUS_ADMIN, type Principal } from './Principal.js';
import { AuthError, type TokenVerifier } from './TokenVerifier.js';

export type Transport = 'http' | 'websocket' | 'grpc';

/**
 * The one door every request goes through: finds the bearer token, verifies
 * it, and counts every refusal in `sgw_auth_rejections_total{transport,reason}`.
 * Without a verifier (no JWT key configured) authentication is off and every
 * request acts as {@link ANONYMOUS_ADMIN}.
 */
export class AccessControl {
  constructor(
    private readonly verifier: TokenVerifier | undefined,
    private readonly metrics: GatewayMetrics,
  ) {}

  get enabled(): boolean {
    return this.verifier !== undefined;
  }

  /**
   * The principal of a request bearing `token` (from `Authorization: Bearer`,
   * gRPC metadata `authorization`, or a WebSocket's `access_token` parameter).
   * @throws AuthError `missing`, `invalid` or `expired` (401 / UNAUTHENTICATED), counted.
   */
  async authenticate(token: string | undefined, transport: Transport): Promise<Principal> {
    if (this.verifier === undefined) return ANONYMOUS_ADMIN;
    try {
      if (token === undefined || token === '') throw new AuthError('missing', 'authentication required: send a bearer token');
      return await this.verifier.verify(token);
    } catch (err) {
      const reason = err instanceof AuthError ? err.reason : 'invalid';
      this.metrics.authRejections.inc({ transport, reason });
      throw err instanceof AuthError ? err : new AuthError('invalid', 'invalid token');
    }
  }

  /** A 403 / PERMISSION_DENIED for an authenticated principal, counted. */
  forbidden(transport: Transport, message: string): AuthError {
    this.metrics.authRejections.inc({ transport, reason: 'forbidden' });
    return new AuthError('forbidden', message);
  }
}

/** The token of an `Authorization: Bearer <token>` value; undefined when absent or another scheme. */
export function bearerToken(authorization: string | readonly string[] | undefined): string | undefined {
  const value: unknown = typeof authorization === 'string' ? authorization : authorization?.[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}
