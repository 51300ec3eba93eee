import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthError } from '../../../auth/TokenVerifier.js';
import type { CallManager } from '../../../calls/CallManager.js';
import type { Language } from '../../../language.js';
import type { Logger } from '../../../logger.js';
import type { LogLimiter } from '../../../LogLimiter.js';
import type { GatewayMetrics } from '../../../metrics.js';
import { secretCredential, type Credential } from '../../../auth/credential.js';
import { matchesSecret } from '../../../auth/secrets.js';
import { SessionWebSocketServer, headerValue as header } from '../SessionWebSocketServer.js';
import { AudioForkSession } from './AudioForkSession.js';
import { DIALECT_OF_SUBPROTOCOL, isForkDialect, type ForkDialect } from './dialects.js';

export const FORK_PATH = '/v1/fork';

/**
 * Largest WebSocket frame; ws refuses a bigger one from its length field
 * with close code 1009. mod_audio_stream sends at most 500 ms a frame
 * (STREAM_BUFFER_SIZE): 32 KB of 16 kHz stereo.
 */
export const MAX_FORK_FRAME_BYTES = 64 * 1024;

export interface AudioForkServerOptions {
  readonly calls: CallManager;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Lines a client can repeat (bad input, its own errors) are logged once per client address a window. */
  readonly logLimiter: LogLimiter;
  /** Shared secrets: a path segment, `?token=`, the Basic password, a Bearer token or `X-API-KEY`. */
  readonly tokens: readonly string[];
  /** None configured and the gateway's own authentication is off: accept any client (development). */
  readonly allowUnauthenticated: boolean;
  readonly defaultLanguage: Language;
}

/**
 * `/v1/fork[/<dialect>][/<token>]`: audio forks from FreeSWITCH
 * (mod_audio_fork, mod_audio_stream), jambonz `listen` and Asterisk's
 * WebSocket channel. The dialect is the path's segment, else the
 * subprotocol offered (`audio.drachtio.org`, `audio.jambonz.org`, `media`),
 * else the first frame's shape. The secret is checked before the upgrade in
 * whichever form the platform can send it (mod_audio_fork, jambonz `wsAuth`
 * and Asterisk's websocket_client.conf send HTTP Basic; mod_audio_stream
 * extra headers; any of them the URL): refusals are 401s, counted in
 * `sgw_auth_rejections_total{transport="websocket"}`.
 */
export class AudioForkServer {
  private readonly server: SessionWebSocketServer<AudioForkSession>;

  constructor(private readonly options: AudioForkServerOptions) {
    this.server = new SessionWebSocketServer({ protocol: 'audio-fork', maxPayload: MAX_FORK_FRAME_BYTES, metrics: options.metrics, logLimiter: options.logLimiter, admit: () => options.calls.admit('audio-fork') });
  }

  /** @throws AuthError 401 for a missing or wrong secret. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const segments = url.pathname.slice(FORK_PATH.length).split('/').filter((s) => s !== '');
    const named = segments[0] !== undefined && isForkDialect(segments[0]) ? segments.shift() : undefined;
    const dialect = (named as ForkDialect | undefined) ?? this.subprotocolDialect(request);
    const credential = this.authenticate(request, url, segments[0]);
    const logger = this.options.logger.child({ dialect: dialect ?? 'auto' });
    this.server.accept(request, socket, head, logger, (ws, remote, source) =>
      new AudioForkSession({
        ws,
        dialect,
        query: url.searchParams,
        remote,
        credential,
        source,
        logLimiter: this.options.logLimiter,
        calls: this.options.calls,
        metrics: this.options.metrics,
        logger,
        defaultLanguage: this.options.defaultLanguage,
      }),
    );
  }

  private subprotocolDialect(request: IncomingMessage): ForkDialect | undefined {
    const offered = (header(request, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    for (const protocol of offered) {
      const dialect = DIALECT_OF_SUBPROTOCOL[protocol];
      if (dialect !== undefined) return dialect;
    }
    return undefined;
  }

  /** The credential the fork's call counts against (MAX_CALLS_PER_CREDENTIAL). */
  private authenticate(request: IncomingMessage, url: URL, pathSegment: string | undefined): Credential {
    if (this.options.allowUnauthenticated) return 'audio-fork:open';
    const offered = [decodeSegment(pathSegment), url.searchParams.get('token') ?? undefined, ...authorizationSecrets(header(request, 'authorization')), header(request, 'x-api-key')].filter(
      (s): s is string => s !== undefined && s !== '',
    );
    const accepted = offered.find((secret) => matchesSecret(secret, this.options.tokens));
    if (accepted !== undefined) return secretCredential('fork-token', accepted);
    const reason = offered.length === 0 ? 'missing' : 'invalid';
    this.options.metrics.authRejections.inc({ transport: 'websocket', reason });
    throw new AuthError(reason, offered.length === 0 ? 'audio fork: a token (path, ?token=, Basic password, Bearer or X-API-KEY) is required' : 'audio fork: token not accepted');
  }

  get activeSessions(): number {
    return this.server.activeSessions;
  }

  /** Idempotent. */
  close(): void {
    this.server.close();
  }
}

/** `Basic base64(user:password)`: the password (the user is free); `Bearer <token>`: the token. */
function authorizationSecrets(value: string | undefined): string[] {
  if (value === undefined) return [];
  const [scheme, credentials] = value.trim().split(/\s+/, 2);
  if (credentials === undefined) return [];
  if (scheme?.toLowerCase() === 'bearer') return [credentials];
  if (scheme?.toLowerCase() !== 'basic') return [];
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? [] : [decoded.slice(colon + 1)];
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
