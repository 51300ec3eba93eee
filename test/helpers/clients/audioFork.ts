/**
 * Audio fork clients for tests, one per platform, each written from that
 * platform's documentation of what it sends over the WebSocket: the upgrade
 * (subprotocol, authentication), the first text frame, then binary frames of
 * 16-bit little-endian PCM, channels interleaved.
 *
 * - FreeSWITCH mod_audio_fork (drachtio README): subprotocol
 *   `audio.drachtio.org` (MOD_AUDIO_FORK_SUBPROTOCOL_NAME), HTTP Basic from
 *   MOD_AUDIO_FORK_HTTP_AUTH_USER/PASSWORD, the `<metadata>` argument as the
 *   first text frame, then L16 at the `<sampling-rate>`, `stereo` = caller
 *   and callee in two channels.
 * - FreeSWITCH mod_audio_stream (amigniter README): no subprotocol,
 *   per-message deflate offered (on unless STREAM_MESSAGE_DEFLATE), optional
 *   metadata text first, audio in STREAM_BUFFER_SIZE chunks (20 ms default).
 * - jambonz `listen` (docs.jambonz.org verbs/listen): subprotocol
 *   `audio.jambonz.org`, `wsAuth` as HTTP Basic, one JSON text frame of the
 *   call attributes plus `sampleRate`, `mixType` and `metadata`, then L16;
 *   `passDtmf` digits as `{"event":"dtmf","dtmf":"2","duration":1600}`.
 * - Asterisk chan_websocket (docs.asterisk.org Channel-Drivers/WebSocket,
 *   websocket_client.conf): optional subprotocol `media` (`protocols`),
 *   `username`/`password` as HTTP Basic, `v()` dial options as URI query
 *   parameters, `MEDIA_START` (plain text, or JSON with
 *   `control_message_format=json`), then the channel's `slin16`/`slin` frames.
 */
import { WebSocket } from 'ws';
import { readWav, type Wav } from '../../../src/demo/speech.js';

export interface ForkConnectOptions {
  /** Path and query, e.g. `/v1/fork/jambonz?token=…`. */
  readonly path: string;
  readonly subprotocol?: string;
  /** HTTP Basic credentials, as each platform sends its configured user and password. */
  readonly basic?: { readonly user: string; readonly password: string };
  readonly headers?: Record<string, string>;
  readonly perMessageDeflate?: boolean;
}

export class ForkClient {
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  }

  /** Opens the socket; rejects with the HTTP status when the upgrade is refused. */
  static async connect(httpPort: number, options: ForkConnectOptions): Promise<ForkClient> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.basic !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${options.basic.user}:${options.basic.password}`).toString('base64')}`;
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}${options.path}`, options.subprotocol === undefined ? [] : [options.subprotocol], { headers, perMessageDeflate: options.perMessageDeflate ?? false });
    const client = new ForkClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
      ws.once('error', reject);
    });
    return client;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  text(frame: string): void {
    this.ws.send(frame);
  }

  binary(frame: Buffer): void {
    this.ws.send(frame, { binary: true });
  }

  /**
   * Interleaved 16-bit PCM as binary frames of `frameMs` each, paced at
   * `speed` × real time, as the platforms send a live call. Stops early if
   * the socket closes.
   */
  async stream(wav: Wav, options: { frameMs?: number; speed?: number } = {}): Promise<void> {
    const frameMs = options.frameMs ?? 20;
    const samplesPerFrame = (wav.sampleRate * frameMs) / 1000;
    const step = samplesPerFrame * wav.channels;
    const startedAt = Date.now();
    for (let i = 0; i < wav.samples.length; i += step) {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const chunk = wav.samples.subarray(i, i + step);
      const bytes = Buffer.alloc(chunk.length * 2);
      for (let j = 0; j < chunk.length; j++) bytes.writeInt16LE(chunk[j] as number, 2 * j);
      this.binary(bytes);
      const due = startedAt + (((i + step) / wav.channels / wav.sampleRate) * 1000) / (options.speed ?? 1);
      const wait = due - Date.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Closes as the platform does at hang-up (1000) and waits for the close handshake. */
  async hangUp(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000, 'hangup');
    return this.closed;
  }
}

export async function fixture(name: 'call-8k-stereo' | 'call-16k-stereo' | 'customer-16k-mono'): Promise<Wav> {
  return readWav(new URL(`../../../../test/fixtures/forks/${name}.wav`, import.meta.url).pathname);
}

/** The call attributes jambonz sends on its webhooks, then on `listen`'s first frame with sampleRate, mixType and the verb's metadata. */
export function jambonzListenMetadata(call: {
  callSid: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  sampleRate: number;
  mixType: 'mono' | 'stereo' | 'mixed';
  metadata?: Record<string, unknown>;
}): string {
  return JSON.stringify({
    callSid: call.callSid,
    direction: call.direction,
    from: call.from,
    to: call.to,
    callId: `${call.callSid}@10.0.0.1`,
    sipStatus: 200,
    callStatus: 'in-progress',
    callerName: call.from,
    accountSid: 'e5a0b0ea-8ee1-4f41-9b2d-5c3a6f8e1a11',
    applicationSid: '7087fe50-8acb-4f3b-b820-97b573723aab',
    originatingSipIp: '192.0.2.10',
    originatingSipTrunkName: 'carrier',
    sampleRate: call.sampleRate,
    mixType: call.mixType,
    ...(call.metadata ?? {}),
  });
}

/** Asterisk's plain-text MEDIA_START (the default `control_message_format`). */
export function asteriskMediaStart(connectionId: string, format: 'slin' | 'slin16' | 'ulaw', ptime = 20): string {
  const bytesPerMs = format === 'slin16' ? 32 : format === 'slin' ? 16 : 8;
  return `MEDIA_START connection_id:${connectionId} channel:WebSocket/${connectionId}/0x5140001a0040 format:${format} optimal_frame_size:${bytesPerMs * ptime} ptime:${ptime}`;
}

/** The JSON MEDIA_START of `control_message_format = json`. */
export function asteriskMediaStartJson(connectionId: string, channelId: string, format: 'slin' | 'slin16', variables: Record<string, string> = {}): string {
  const bytes = format === 'slin16' ? 640 : 320;
  return JSON.stringify({
    event: 'MEDIA_START',
    connection_id: connectionId,
    channel: `WebSocket/${connectionId}/0x5140001a0040`,
    channel_id: channelId,
    format,
    optimal_frame_size: bytes,
    ptime: 20,
    channel_variables: { MEDIA_WEBSOCKET_CONNECTION_ID: connectionId, MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE: String(bytes), ...variables },
  });
}
