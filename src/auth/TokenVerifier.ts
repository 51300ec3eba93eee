import { readFileSync } from 'node:fs';
import { errors, importSPKI, importX509, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { GatewayError } from '../errors.js';
import { isRole, type Principal } from './Principal.js';

/** Why a request was refused (the `reason` label of `sgw_auth_rejections_total`). */
export type AuthFailure = 'missing' | 'invalid' | 'expired' | 'forbidden';

/** A refused request: 401 / UNAUTHENTICATED, or 403 / PERMISSION_DENIED for `forbidden`. */
export class AuthError extends GatewayError {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(reason === 'forbidden' ? 'SGW_PERMISSION_DENIED' : 'SGW_UNAUTHENTICATED', message);
  }
}

export interface TokenKeys {
  /** HS256 shared secret (at least 32 bytes). */
  readonly secret?: string | undefined;
  /** RS256: PEM of the public key (SPKI, `BEGIN PUBLIC KEY`) or of a certificate carrying it. */
  readonly publicKeyPem?: string | undefined;
  /** Required `iss` when set. */
  readonly issuer?: string | undefined;
  /** Required `aud` when set. */
  readonly audience?: string | undefined;
}

/** Claims the gateway reads, beyond the registered ones. */
export interface GatewayClaims extends JWTPayload {
  readonly role?: unknown;
  readonly agent_id?: unknown;
  readonly queues?: unknown;
}

/**
 * Verifies a JWT (HS256 with the shared secret, RS256 with the public key;
 * only the algorithms whose key is configured are accepted, so `alg: none` or
 * an HS256 token "signed" with the RSA public key never pass) and turns its
 * claims into a {@link Principal}. `exp` is required; `iss` and `aud` when
 * configured. Roles: see {@link Principal}.
 */
export class TokenVerifier {
  private constructor(
    private readonly hmacKey: Uint8Array | undefined,
    private readonly rsaKey: CryptoKey | undefined,
    private readonly keys: TokenKeys,
  ) {}

  static async create(keys: TokenKeys): Promise<TokenVerifier> {
    if (keys.secret === undefined && keys.publicKeyPem === undefined) throw new GatewayError('SGW_CONFIG', 'a JWT secret or public key is required');
    const hmacKey = keys.secret === undefined ? undefined : hmacSecret(keys.secret);
    let rsaKey: CryptoKey | undefined;
    if (keys.publicKeyPem !== undefined) {
      try {
        rsaKey = keys.publicKeyPem.includes('BEGIN CERTIFICATE') ? await importX509(keys.publicKeyPem, 'RS256') : await importSPKI(keys.publicKeyPem, 'RS256');
      } catch (err) {
        throw new GatewayError('SGW_CONFIG', `JWT public key: not an RSA public key or certificate in PEM (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    return new TokenVerifier(hmacKey, rsaKey, keys);
  }

  static async fromFiles(options: { secret?: string | undefined; publicKeyFile?: string | undefined; issuer?: string | undefined; audience?: string | undefined }): Promise<TokenVerifier> {
    return TokenVerifier.create({ ...options, publicKeyPem: options.publicKeyFile === undefined ? undefined : readPem(options.publicKeyFile, 'JWT public key') });
  }

  get algorithms(): string[] {
    return [...(this.hmacKey === undefined ? [] : ['HS256']), ...(this.rsaKey === undefined ? [] : ['RS256'])];
  }

  /** @throws AuthError `invalid` or `expired`. */
  async verify(token: string): Promise<Principal> {
    let payload: GatewayClaims;
    try {
      ({ payload } = await jwtVerify<GatewayClaims>(
        token,
        (header) => {
          if (header.alg === 'HS256' && this.hmacKey !== undefined) return this.hmacKey;
          if (header.alg === 'RS256' && this.rsaKey !== undefined) return this.rsaKey;
          throw new errors.JOSEAlgNotAllowed(`algorithm ${String(header.alg).slice(0, 20)} is not accepted`);
        },
        { algorithms: this.algorithms, issuer: this.keys.issuer, audience: this.keys.audience, requiredClaims: ['exp'] },
      ));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AuthError('expired', 'token expired');
      if (err instanceof errors.JOSEError) throw new AuthError('invalid', `invalid token: ${err.message}`);
      throw new AuthError('invalid', 'invalid token');
    }
    return principalOf(payload);
  }
}

/** The principal a verified token's claims describe. @throws AuthError `invalid` on missing or malformed claims. */
export function principalOf(claims: GatewayClaims): Principal {
  const { role } = claims;
  if (!isRole(role)) throw new AuthError('invalid', 'invalid token: claim role must be agent, supervisor, admin or pbx');
  const agentId = typeof claims.agent_id === 'string' && claims.agent_id !== '' ? claims.agent_id : undefined;
  if (role === 'agent' && agentId === undefined) throw new AuthError('invalid', 'invalid token: an agent token needs claim agent_id');
  const queues = claims.queues;
  // An empty name would match every call started without a queue.
  if (queues !== undefined && !(Array.isArray(queues) && queues.every((q) => typeof q === 'string') && !queues.includes(''))) {
    throw new AuthError('invalid', 'invalid token: claim queues must be an array of non-empty strings');
  }
  if (role === 'supervisor' && (queues === undefined || queues.length === 0)) throw new AuthError('invalid', 'invalid token: a supervisor token needs claim queues');
  const subject = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : (agentId ?? role);
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  return Object.freeze({ role, subject, agentId, queues: Object.freeze([...(queues ?? [])]), ...(expiresAt === undefined ? {} : { expiresAt }) });
}

export function hmacSecret(secret: string): Uint8Array {
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < 32) throw new GatewayError('SGW_CONFIG', 'JWT secret must be at least 32 bytes (256 bits) for HS256');
  return bytes;
}

export function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayError('SGW_CONFIG', `${what}: cannot read ${file} (${err instanceof Error ? err.message : String(err)})`);
  }
}
