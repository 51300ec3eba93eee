/**
 * A Genesys AudioHook v2 client (what Genesys Cloud does), written from the
 * protocol specification for tests: upgrade with the Audiohook-* headers and
 * X-API-KEY, the open transaction, stereo audio frames (external = customer,
 * internal = agent), ping, paused/resumed, discarded, update, close.
 *
 * @see https://developer.genesys.cloud/devapps/audiohook/
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { encodeAudioFrame } from '../../../src/ingest/websocket/audiohook/audioFrame.js';
import type { MediaParameter } from '../../../src/ingest/websocket/audiohook/protocol.js';

export interface ServerMessage {
  readonly version: string;
  readonly id: string;
  readonly type: string;
  readonly seq: number;
  readonly clientseq: number;
  readonly parameters: Record<string, unknown>;
}

export const STEREO_PCMU: MediaParameter = { type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 };
/** What Genesys offers: stereo, then each channel alone. */
export const GENESYS_OFFERS: readonly MediaParameter[] = [
  STEREO_PCMU,
  { type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 },
  { type: 'audio', format: 'PCMU', channels: ['internal'], rate: 8000 },
];

export interface OpenOptions {
  readonly conversationId?: string;
  readonly language?: string;
  readonly customConfig?: Record<string, unknown>;
  readonly media?: readonly MediaParameter[];
}

export class AudioHookClient {
  readonly received: ServerMessage[] = [];
  readonly sessionId: string;
  private seq = 0;
  private serverseq = 0;
  /** Samples per channel streamed (or discarded) so far: the stream position. */
  private samples = 0;
  private media: MediaParameter = STEREO_PCMU;
  private readonly waiters: { type: string; resolve: (m: ServerMessage) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    sessionId: string,
  ) {
    this.sessionId = sessionId;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString('utf8')) as ServerMessage;
      this.serverseq = message.seq;
      this.received.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.type === message.type) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  }

  /** Connects; rejects with the HTTP status when the upgrade is refused. */
  static async connect(
    httpPort: number,
    options: {
      apiKey?: string;
      sessionId?: string;
      organizationId?: string;
      /** Sign the request as Genesys does when the integration has a client secret (base64-decoded here). */
      sign?: { readonly secret: Buffer; readonly created?: number };
      /** Headers set after signing (to tamper with a signed one). */
      afterSigning?: Record<string, string>;
    } = {},
  ): Promise<AudioHookClient> {
    const sessionId = options.sessionId ?? randomUUID();
    const headers: Record<string, string> = {
      'Audiohook-Organization-Id': options.organizationId ?? randomUUID(),
      'Audiohook-Correlation-Id': randomUUID(),
      'Audiohook-Session-Id': sessionId,
    };
    if (options.apiKey !== undefined) headers['X-API-KEY'] = options.apiKey;
    if (options.sign !== undefined) Object.assign(headers, genesysSignature(`127.0.0.1:${httpPort}`, '/v1/audiohook', headers, options.sign.secret, options.sign.created));
    Object.assign(headers, options.afterSigning ?? {});
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/v1/audiohook`, { headers, perMessageDeflate: false });
    const client = new AudioHookClient(ws, sessionId);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
      ws.once('error', reject);
    });
    return client;
  }

  get positionMs(): number {
    return (this.samples / 8000) * 1000;
  }

  /** Resolves with the next server message of `type` (or one already received and not yet taken). */
  next(type: string, timeoutMs = 5000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms; got ${this.received.map((m) => m.type).join(',')}`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  send(type: string, parameters: Record<string, unknown>): void {
    const position = `PT${Number((this.positionMs / 1000).toFixed(3))}S`;
    this.ws.send(JSON.stringify({ version: '2', id: this.sessionId, type, seq: ++this.seq, serverseq: this.serverseq, position, parameters }));
  }

  /** The open transaction; resolves with `opened`. */
  async open(options: OpenOptions = {}): Promise<ServerMessage> {
    const opened = this.next('opened');
    this.sendOpen(options);
    const message = await opened;
    const chosen = (message.parameters['media'] as MediaParameter[] | undefined)?.[0];
    if (chosen !== undefined) this.media = chosen;
    return message;
  }

  /** Sends `open` without waiting for the answer (which may be a `disconnect`). */
  sendOpen(options: OpenOptions = {}): void {
    this.send('open', {
      organizationId: randomUUID(),
      conversationId: options.conversationId ?? randomUUID(),
      participant: { id: randomUUID(), ani: '+31201234567', aniName: 'Customer', dnis: '+31207654321' },
      media: options.media ?? GENESYS_OFFERS,
      ...(options.language === undefined ? {} : { language: options.language }),
      ...(options.customConfig === undefined ? {} : { customConfig: options.customConfig }),
    });
  }

  /**
   * Streams time-aligned customer and agent PCM (8 kHz) as frames of
   * `frameMs`, paced at `speed` × real time.
   */
  async stream(customer: Int16Array, agent: Int16Array, options: { frameMs?: number; speed?: number } = {}): Promise<void> {
    const frame = Math.round(((options.frameMs ?? 20) * 8000) / 1000);
    const startedAt = Date.now();
    const startSamples = this.samples;
    for (let i = 0; i < customer.length; i += frame) {
      const channels = this.media.channels.map((c) => (c === 'external' ? customer : agent).subarray(i, i + frame));
      this.ws.send(encodeAudioFrame(channels, this.media));
      this.samples += channels[0]?.length ?? 0;
      const due = startedAt + ((this.samples - startSamples) / 8000) * 1000 / (options.speed ?? 1);
      const wait = due - Date.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Client-initiated pause: `paused`; Genesys then sends no audio. */
  paused(): void {
    this.send('paused', {});
  }

  /** `resumed` after `pausedMs` of audio was held back. */
  resumed(pausedMs: number): void {
    const start = this.positionMs;
    this.samples += Math.round((pausedMs * 8000) / 1000);
    this.send('resumed', { start: `PT${(start / 1000).toFixed(3)}S`, discarded: `PT${(pausedMs / 1000).toFixed(3)}S` });
  }

  /** `discarded`: Genesys lost `ms` of audio (of both channels) and says so instead of sending it. */
  discarded(ms: number): void {
    const start = this.positionMs;
    this.samples += Math.round((ms * 8000) / 1000);
    this.send('discarded', { start: `PT${(start / 1000).toFixed(3)}S`, discarded: `PT${(ms / 1000).toFixed(3)}S` });
  }

  /** An empty binary frame, as Genesys' reference client sends to probe the connection. */
  emptyFrame(): void {
    this.ws.send(Buffer.alloc(0), { binary: true });
  }

  async ping(): Promise<ServerMessage> {
    const pong = this.next('pong');
    this.send('ping', { rtt: 'PT0.02S' });
    return pong;
  }

  /** The close transaction; resolves with `closed`. */
  async close(reason = 'end'): Promise<ServerMessage> {
    const closed = this.next('closed');
    this.send('close', { reason });
    const message = await closed;
    this.ws.close(1000);
    return message;
  }
}

/**
 * Signature and Signature-Input as Genesys Cloud puts them on the connection
 * request (AudioHook protocol, "Authentication"; RFC 9421): label sig1,
 * HMAC-SHA256 with the client secret, keyid the API key, a random nonce,
 * created now and expires 60 s on, over @request-target, @authority and the
 * four Audiohook/X-API-KEY headers. Written here from the specification,
 * independently of the gateway's verifier.
 */
export function genesysSignature(authority: string, target: string, headers: Readonly<Record<string, string>>, secret: Buffer, created = Math.floor(Date.now() / 1000)): Record<string, string> {
  const value = (name: string): string => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';
  const components = ['@request-target', '@authority', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'];
  const params = `(${components.map((c) => `"${c}"`).join(' ')});keyid="${value('x-api-key')}";nonce="${randomBytes(24).toString('base64')}";alg="hmac-sha256";created=${created};expires=${created + 60}`;
  const base = [
    `"@request-target": ${target}`,
    `"@authority": ${authority}`,
    ...components.slice(2).map((c) => `"${c}": ${value(c)}`),
    `"@signature-params": ${params}`,
  ].join('\n');
  const signature = createHmac('sha256', secret).update(base).digest('base64');
  return { Signature: `sig1=:${signature}:`, 'Signature-Input': `sig1=${params}` };
}
