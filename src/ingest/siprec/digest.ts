/**
 * SIP digest authentication of SIPREC INVITEs (RFC 3261 §22.4, the
 * RFC 2617 computation with qop=auth), for SRCs that can be given a
 * username and password (SIPREC_DIGEST). Nonces are stateless: the time
 * they were issued and an HMAC of it under a key drawn at start, good for
 * five minutes, so a restart or many SRCs cost no memory.
 *
 * @see [RFC 3261 §22.4](https://datatracker.ietf.org/doc/html/rfc3261#section-22.4)
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DIGEST_REALM = 'speech-gateway';
const NONCE_TTL_MS = 5 * 60_000;

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/** SIPREC_DIGEST: `<username>:<password>`. @returns the credentials, or what is wrong. */
export function parseDigestCredentials(text: string): DigestCredentials | string {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return '<username>:<password>';
  const username = text.slice(0, colon);
  if (!/^[\w.!~*'()&=+$,;?/-]{1,64}$/.test(username)) return 'a username of letters, digits and -_.!~*\'()&=+$,;?/ (at most 64)';
  return { username, password: text.slice(colon + 1) };
}

export type DigestOutcome = 'ok' | 'missing' | 'stale' | 'wrong';

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export class DigestAuthenticator {
  private readonly key = randomBytes(32);

  constructor(
    private readonly credentials: DigestCredentials,
    private readonly now: () => number = Date.now,
  ) {}

  /** The WWW-Authenticate value of a 401; `stale` when the client's nonce had expired (RFC 2617 §3.2.1). */
  challenge(stale = false): string {
    const issued = this.now().toString(16);
    const nonce = `${issued}.${this.sign(issued)}`;
    return `Digest realm="${DIGEST_REALM}", nonce="${nonce}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /** Checks the Authorization header of a request. */
  verify(method: string, authorization: string | undefined): DigestOutcome {
    if (authorization === undefined || !/^\s*digest\s/i.test(authorization)) return 'missing';
    const params = parseParams(authorization.replace(/^\s*digest\s+/i, ''));
    const { username, realm, nonce, uri, response } = params;
    if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return 'wrong';
    const [issued = '', signature = ''] = nonce.split('.');
    if (!safeEqual(signature, this.sign(issued))) return 'wrong';
    const algorithm = (params['algorithm'] ?? 'MD5').toUpperCase();
    if (algorithm !== 'MD5') return 'wrong';
    const ha1 = md5(`${this.credentials.username}:${DIGEST_REALM}:${this.credentials.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const qop = params['qop'];
    const expected = qop === undefined ? md5(`${ha1}:${nonce}:${ha2}`) : md5(`${ha1}:${nonce}:${params['nc'] ?? ''}:${params['cnonce'] ?? ''}:${qop}:${ha2}`);
    if (username !== this.credentials.username || realm !== DIGEST_REALM || !safeEqual(response.toLowerCase(), expected)) return 'wrong';
    // Checked last: a right answer to an old nonce is asked again (stale), a wrong one refused.
    const age = this.now() - parseInt(issued, 16);
    if (!(age >= 0 && age <= NONCE_TTL_MS)) return 'stale';
    return 'ok';
  }

  private sign(issued: string): string {
    return createHmac('sha256', this.key).update(issued).digest('hex').slice(0, 32);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `name="value", name=value` pairs of a credentials header. */
function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of text.matchAll(/([a-zA-Z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    const name = (match[1] ?? '').toLowerCase();
    if (!Object.hasOwn(params, name)) params[name] = (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return params;
}
