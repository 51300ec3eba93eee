import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { GatewayError } from '../errors.js';
import type { Role } from './Principal.js';
import { hmacSecret, readPem } from './TokenVerifier.js';

export interface TokenRequest {
  readonly role: Role;
  /** `sub`; defaults to the agent id, else the role. */
  readonly subject?: string | undefined;
  readonly agentId?: string | undefined;
  readonly queues?: readonly string[] | undefined;
  /** Lifetime: `90s`, `30m`, `8h`, `7d` or plain seconds. */
  readonly ttl: string;
}

const TTL = /^(\d+)\s*(s|m|h|d)?$/;

/** Seconds of a TTL such as `8h`. @throws GatewayError on anything else. */
export function parseTtl(ttl: string): number {
  const match = TTL.exec(ttl.trim());
  const n = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(n) || n <= 0) throw new GatewayError('SGW_CONFIG', `--ttl must be like 90s, 30m, 8h or 7d, got '${ttl}'`);
  return n * { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

/**
 * Signs gateway tokens: HS256 with the shared secret, or RS256 with a private
 * key (PKCS#8 PEM). For development and the demo; production tokens come from
 * the identity provider with the same claims.
 */
export class TokenIssuer {
  private constructor(
    private readonly key: Uint8Array | CryptoKey,
    private readonly alg: 'HS256' | 'RS256',
    private readonly claims: { issuer?: string | undefined; audience?: string | undefined },
  ) {}

  static async create(options: { secret?: string | undefined; privateKeyFile?: string | undefined; issuer?: string | undefined; audience?: string | undefined }): Promise<TokenIssuer> {
    const claims = { issuer: options.issuer, audience: options.audience };
    if (options.privateKeyFile !== undefined) {
      const pem = readPem(options.privateKeyFile, 'JWT private key');
      try {
        return new TokenIssuer(await importPKCS8(pem, 'RS256'), 'RS256', claims);
      } catch (err) {
        throw new GatewayError('SGW_CONFIG', `JWT private key: not an RSA private key in PKCS#8 PEM (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    if (options.secret !== undefined) return new TokenIssuer(hmacSecret(options.secret), 'HS256', claims);
    throw new GatewayError('SGW_CONFIG', 'issuing a token needs JWT_SECRET (HS256) or JWT_PRIVATE_KEY_FILE (RS256)');
  }

  get algorithm(): 'HS256' | 'RS256' {
    return this.alg;
  }

  async issue(request: TokenRequest): Promise<string> {
    if (request.role === 'agent' && (request.agentId ?? '') === '') throw new GatewayError('SGW_CONFIG', 'an agent token needs --agent');
    if (request.role === 'supervisor' && (request.queues ?? []).length === 0) throw new GatewayError('SGW_CONFIG', 'a supervisor token needs --queues');
    if (request.queues?.includes('') === true) throw new GatewayError('SGW_CONFIG', '--queues: a queue name is empty');
    const jwt = new SignJWT({
      role: request.role,
      ...(request.agentId === undefined ? {} : { agent_id: request.agentId }),
      ...(request.queues === undefined ? {} : { queues: [...request.queues] }),
    })
      .setProtectedHeader({ alg: this.alg, typ: 'JWT' })
      .setSubject(request.subject ?? request.agentId ?? request.role)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + parseTtl(request.ttl));
    if (this.claims.issuer !== undefined) jwt.setIssuer(this.claims.issuer);
    if (this.claims.audience !== undefined) jwt.setAudience(this.claims.audience);
    return jwt.sign(this.key);
  }
}
