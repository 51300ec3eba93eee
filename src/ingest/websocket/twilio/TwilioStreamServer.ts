import { createHmac, timingSafeEqual } from 'node:crypto';
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
import { TwilioStreamSession } from './TwilioStreamSession.js';
import { SessionWebSocketServer, headerValue as header } from '../SessionWebSocketServer.js';

export const TWILIO_PATH = '/v1/twilio';

/**
 * Largest WebSocket frame; ws refuses a bigger one from its length field
 * with close code 1009. Twilio's media messages carry 20 ms (160 bytes of
 * μ-law, ~350 bytes of JSON).
 */
export const MAX_TWILIO_FRAME_BYTES = 64 * 1024;

export interface TwilioStreamServerOptions {
  readonly calls: CallManager;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Lines a client can repeat (bad input, its own errors) are logged once per client address a window. */
  readonly logLimiter: LogLimiter;
  /** Shared secrets accepted as the last path segment (`/v1/twilio/<token>`) or `?token=`. */
  readonly streamTokens: readonly string[];
  /** Twilio account auth token: a valid `X-Twilio-Signature` on the upgrade is accepted too. */
  readonly authToken: string | undefined;
  /** Public base URL Twilio connects to (`wss://gw.example.com`), for the signature; default `wss://<Host header>`. */
  readonly publicUrl: string | undefined;
  /** Nothing configured and the gateway's own authentication is off: accept any client (development). */
  readonly allowUnauthenticated: boolean;
  readonly defaultLanguage: Language;
}

/**
 * `/v1/twilio`: Twilio Media Streams (`<Start><Stream url="wss://…/v1/twilio/<token>">`).
 * Twilio's `<Stream url>` takes no query string, so the shared secret rides
 * in the path; `X-Twilio-Signature` (HMAC-SHA1 of the URL with the account's
 * auth token) is checked when TWILIO_AUTH_TOKEN is set. Refusals are 401s
 * before the upgrade, counted in `sgw_auth_rejections_total{transport="websocket"}`.
 *
 * @see
 * - [Media Streams](https://www.twilio.com/docs/voice/media-streams)
 * - [Webhook security: X-Twilio-Signature](https://www.twilio.com/docs/usage/webhooks/webhooks-security)
 */
export class TwilioStreamServer {
  private readonly server: SessionWebSocketServer<TwilioStreamSession>;

  constructor(private readonly options: TwilioStreamServerOptions) {
    this.server = new SessionWebSocketServer({ protocol: 'twilio', maxPayload: MAX_TWILIO_FRAME_BYTES, metrics: options.metrics, logLimiter: options.logLimiter, admit: () => options.calls.admit('twilio') });
  }

  /** @throws AuthError 401 for a missing or wrong token / signature. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const credential = this.authenticate(request, url);
    this.server.accept(request, socket, head, this.options.logger, (ws, remote, source) =>
      new TwilioStreamSession({
        ws,
        remote,
        credential,
        source,
        logLimiter: this.options.logLimiter,
        calls: this.options.calls,
        metrics: this.options.metrics,
        logger: this.options.logger,
        defaultLanguage: this.options.defaultLanguage,
      }),
    );
  }

  /** The credential the stream's call counts against (MAX_CALLS_PER_CREDENTIAL). */
  private authenticate(request: IncomingMessage, url: URL): Credential {
    if (this.options.allowUnauthenticated) return 'twilio:open';
    const reject = (reason: 'missing' | 'invalid', message: string): never => {
      this.options.metrics.authRejections.inc({ transport: 'websocket', reason });
      throw new AuthError(reason, message);
    };
    const fromPath = url.pathname.length > TWILIO_PATH.length + 1 ? decodeSegment(url.pathname.slice(TWILIO_PATH.length + 1)) : undefined;
    const token = fromPath ?? url.searchParams.get('token') ?? undefined;
    const signature = header(request, 'x-twilio-signature');
    if (token !== undefined && matchesSecret(token, this.options.streamTokens)) return secretCredential('twilio-token', token);
    // Signed with the account's auth token: the account is the credential.
    if (signature !== undefined && this.options.authToken !== undefined && this.validSignature(request, signature, this.options.authToken)) return 'twilio:account';
    if (token === undefined && signature === undefined) reject('missing', 'Twilio stream: a token (/v1/twilio/<token>) or X-Twilio-Signature is required');
    return reject('invalid', 'Twilio stream: token or signature not accepted');
  }

  /** Twilio signs the full URL it requested (no POST body on a WebSocket): base64(HMAC-SHA1(authToken, url)). */
  private validSignature(request: IncomingMessage, signature: string, authToken: string): boolean {
    const base = this.options.publicUrl?.replace(/\/+$/, '') ?? `wss://${header(request, 'host') ?? ''}`;
    const expected = createHmac('sha1', authToken).update(`${base}${request.url ?? ''}`).digest();
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  get activeSessions(): number {
    return this.server.activeSessions;
  }

  /** Idempotent. */
  close(): void {
    this.server.close();
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
