import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthError } from '../../../auth/TokenVerifier.js';
import type { CallManager } from '../../../calls/CallManager.js';
import type { Language } from '../../../language.js';
import type { Logger } from '../../../logger.js';
import type { LogLimiter } from '../../../LogLimiter.js';
import type { GatewayMetrics } from '../../../metrics.js';
import { secretCredential } from '../../../auth/credential.js';
import { matchesSecret } from '../../../auth/secrets.js';
import { AudioHookSession } from './AudioHookSession.js';
import { SessionWebSocketServer, headerValue as header } from '../SessionWebSocketServer.js';
import { isUuid } from './protocol.js';
import { checkRequestSignature } from './requestSignature.js';

export const AUDIOHOOK_PATH = '/v1/audiohook';

/**
 * Largest WebSocket frame; ws refuses a bigger one from its length field
 * (before reading it) with close code 1009. Genesys sends about 20-100 ms
 * of audio per frame (at most 1.6 KiB of stereo PCMU).
 */
export const MAX_AUDIOHOOK_FRAME_BYTES = 64 * 1024;

export interface AudioHookServerOptions {
  readonly calls: CallManager;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Lines a client can repeat (bad input, its own errors) are logged once per client address a window. */
  readonly logLimiter: LogLimiter;
  /** Accepted `X-API-KEY` values. Empty: every key is refused, unless `allowWithoutKey`. */
  readonly apiKeys: readonly string[];
  /**
   * Client secrets by API key: a connection with one of these keys must also
   * carry Genesys' HTTP message signature made with it (requestSignature.ts).
   * These keys are accepted keys too.
   */
  readonly clientSecrets?: ReadonlyMap<string, Buffer>;
  /** No keys configured and the gateway's own authentication is off: accept any client (development). */
  readonly allowWithoutKey: boolean;
  readonly defaultLanguage: Language;
  readonly closeGraceMs?: number;
}

/**
 * `/v1/audiohook`: Genesys Cloud AudioHook Monitor (protocol v2) over a
 * WebSocket. The upgrade request carries `Audiohook-Organization-Id`,
 * `Audiohook-Correlation-Id`, `Audiohook-Session-Id` and `X-API-KEY`; the
 * key is checked before upgrading (401, counted in
 * `sgw_auth_rejections_total{transport="websocket"}`), and so is the
 * request's HTTP message signature when the key has a client secret.
 *
 * @see [AudioHook Protocol Specification](https://developer.genesys.cloud/devapps/audiohook/)
 */
export class AudioHookServer {
  private readonly server: SessionWebSocketServer<AudioHookSession>;

  private readonly acceptedKeys: readonly string[];

  constructor(private readonly options: AudioHookServerOptions) {
    this.acceptedKeys = [...options.apiKeys, ...(options.clientSecrets?.keys() ?? [])];
    this.server = new SessionWebSocketServer({
      protocol: 'audiohook',
      maxPayload: MAX_AUDIOHOOK_FRAME_BYTES,
      metrics: options.metrics,
      logLimiter: options.logLimiter,
      admit: () => options.calls.admit('audiohook'),
    });
  }

  /**
   * Checks the API key, then upgrades.
   * @throws AuthError 401 for a missing or wrong `X-API-KEY` (the upgrade is refused).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const key = header(request, 'x-api-key');
    if (!this.options.allowWithoutKey) {
      if (key === undefined || key === '') {
        this.options.metrics.authRejections.inc({ transport: 'websocket', reason: 'missing' });
        throw new AuthError('missing', 'AudioHook: X-API-KEY header required');
      }
      if (!matchesSecret(key, this.acceptedKeys)) {
        this.options.metrics.authRejections.inc({ transport: 'websocket', reason: 'invalid' });
        throw new AuthError('invalid', 'AudioHook: X-API-KEY not accepted');
      }
    }
    const secret = key === undefined ? undefined : this.options.clientSecrets?.get(key);
    if (key !== undefined && secret !== undefined) {
      // Genesys' protocol: a request whose signature fails is unauthorized (401), like a wrong key.
      const failure = checkRequestSignature({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers }, key, secret);
      if (failure !== undefined) {
        this.options.metrics.authRejections.inc({ transport: 'websocket', reason: failure.reason });
        throw new AuthError(failure.reason, `AudioHook: ${failure.message}`);
      }
    }
    // Without key checking any key is accepted, so none can stand for a credential: they share one.
    const credential = this.options.allowWithoutKey || key === undefined ? 'audiohook:open' : secretCredential('audiohook-key', key);
    const sessionId = header(request, 'audiohook-session-id');
    const logger = this.options.logger.child({
      audiohookSession: sessionId,
      correlationId: header(request, 'audiohook-correlation-id')?.slice(0, 64),
      organizationId: header(request, 'audiohook-organization-id')?.slice(0, 64),
    });
    this.server.accept(request, socket, head, logger, (ws, remote, source) =>
      new AudioHookSession({
        ws,
        sessionId: isUuid(sessionId) ? sessionId : undefined,
        remote,
        credential,
        source,
        logLimiter: this.options.logLimiter,
        calls: this.options.calls,
        metrics: this.options.metrics,
        logger,
        defaultLanguage: this.options.defaultLanguage,
        closeGraceMs: this.options.closeGraceMs ?? 5000,
      }),
    );
  }

  get activeSessions(): number {
    return this.server.activeSessions;
  }

  /** Idempotent. */
  close(): void {
    this.server.close();
  }
}
