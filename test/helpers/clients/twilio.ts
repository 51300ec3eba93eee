/**
 * A Twilio Media Streams client (what Twilio does for `<Start><Stream>`),
 * written from the WebSocket message reference for tests: connected, start
 * with customParameters, media (base64 μ-law, 20 ms per message, per track),
 * dtmf, mark, stop.
 *
 * @see https://www.twilio.com/docs/voice/media-streams/websocket-messages
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { encodeUlaw } from '../../../src/audio/codecs/index.js';

export type Track = 'inbound' | 'outbound';

const sid = (prefix: string): string => `${prefix}${randomBytes(16).toString('hex')}`;

export class TwilioStreamClient {
  readonly streamSid = sid('MZ');
  readonly callSid = sid('CA');
  readonly accountSid = sid('AC');
  private sequence = 0;
  private chunk = 0;
  /** ms of audio sent per track: the media timestamps. */
  private readonly sentMs: Record<Track, number> = { inbound: 0, outbound: 0 };
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  }

  /** Connects to `/v1/twilio/<token>` (or `/v1/twilio`); rejects with the HTTP status when refused. */
  static async connect(httpPort: number, options: { token?: string; headers?: Record<string, string>; path?: string } = {}): Promise<TwilioStreamClient> {
    const path = options.path ?? `/v1/twilio${options.token === undefined ? '' : `/${encodeURIComponent(options.token)}`}`;
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}${path}`, { headers: options.headers ?? {}, perMessageDeflate: false });
    const client = new TwilioStreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
      ws.once('error', reject);
    });
    return client;
  }

  private sendJson(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** `connected` then `start`. */
  begin(options: { tracks?: readonly Track[]; customParameters?: Record<string, string> } = {}): void {
    this.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.sendJson({
      event: 'start',
      sequenceNumber: String(++this.sequence),
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: options.tracks ?? ['inbound', 'outbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: options.customParameters ?? {},
      },
      streamSid: this.streamSid,
    });
  }

  /** One media message (≤ 20 ms of 8 kHz PCM is what Twilio sends). */
  media(track: Track, pcm: Int16Array): void {
    this.sendJson({
      event: 'media',
      sequenceNumber: String(++this.sequence),
      media: { track, chunk: String(++this.chunk), timestamp: String(Math.round(this.sentMs[track])), payload: Buffer.from(encodeUlaw(pcm)).toString('base64') },
      streamSid: this.streamSid,
    });
    this.sentMs[track] += (pcm.length / 8000) * 1000;
  }

  /** Both tracks, 20 ms per message each, paced at `speed` × real time. */
  async stream(inbound: Int16Array, outbound: Int16Array, options: { speed?: number } = {}): Promise<void> {
    const frame = 160;
    const startedAt = Date.now();
    for (let i = 0; i < inbound.length; i += frame) {
      this.media('inbound', inbound.subarray(i, i + frame));
      this.media('outbound', outbound.subarray(i, i + frame));
      const due = startedAt + ((i + frame) / 8000) * 1000 / (options.speed ?? 1);
      const wait = due - Date.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  dtmf(digit: string, track: 'inbound_track' | 'outbound_track' = 'inbound_track'): void {
    this.sendJson({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: String(++this.sequence), dtmf: { track, digit } });
  }

  mark(name: string): void {
    this.sendJson({ event: 'mark', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, mark: { name } });
  }

  /** `stop`; resolves when the server closes the socket. */
  async stop(): Promise<{ code: number; reason: string }> {
    this.sendJson({ event: 'stop', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, stop: { accountSid: this.accountSid, callSid: this.callSid } });
    return this.closed;
  }
}
