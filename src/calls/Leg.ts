import { EventEmitter } from 'node:events';
import type { CallAnalytics } from '../analytics/CallAnalytics.js';
import type { RecognitionStream } from '../asr/SpeechService.js';
import type { RecognitionResult } from '../asr/types.js';
import type { CodecSpec } from '../audio/codecs/Codec.js';
import { frameLevelDb } from '../audio/levels.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { LegRole, PauseReason } from '../push/events.js';
import { DTMF_BURST, DTMF_PRESSES_PER_SECOND, DtmfRateLimit } from './DtmfRateLimit.js';
import type { DtmfPress, LegMedia, MediaFrame } from './media/LegMedia.js';
import type { LegSnapshot } from './types.js';

export interface LegOptions {
  readonly role: LegRole;
  readonly codec: CodecSpec;
  /** Where the audio comes from (RTP, or a stream an ingest protocol pushes); owned by the leg. */
  readonly media: LegMedia;
  /** Undefined when the gateway does not recognise (`ASR=none`): audio is still received, metered and levelled. */
  readonly speech: RecognitionStream | undefined;
  readonly analytics: CallAnalytics;
  /** `Date.now()` at call start: the zero of every event time on this call. */
  readonly callStartedAt: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface LegEvents {
  /** The far end hung up the leg (RTCP BYE, RFC 3550 §6.6, or the protocol's close). */
  bye: [];
  /** A DTMF press within the leg's bound, after its `dtmf` event was published (masked or not). */
  dtmf: [press: DtmfPress];
}

/**
 * One direction of a call's media: audio in, recogniser, results and audio
 * levels to the call's analytics. Owns its media (and so its ports) and its
 * speech stream.
 */
export class Leg extends EventEmitter<LegEvents> {
  readonly role: LegRole;
  /**
   * Call time (ms) of the leg's first sample. Recogniser times count from
   * the first sample written, so this shifts them onto the call's timeline.
   */
  private audioOffsetMs: number | undefined;
  /** Samples received so far (lost ones filled), the leg's audio clock. */
  private samples = 0;
  /** Sample rate of the media's frames (0 before the first). */
  private rate = 0;
  private closed = false;
  private readonly results: Promise<void>;
  /** Set while recognition is suspended: the reason and the call time it started. */
  private pause: { readonly reason: PauseReason; readonly startMs: number } | undefined;
  private readonly dtmfLimit = new DtmfRateLimit();
  private dtmfDropped = 0;

  constructor(private readonly options: LegOptions) {
    super();
    this.role = options.role;
    options.media.on('audio', (frame) => this.onAudio(frame));
    options.media.on('dtmf', (press) => this.onDtmf(press));
    options.media.once('bye', () => this.emit('bye'));
    const { speech } = options;
    speech?.onSpot((hit) => {
      const offset = this.audioOffsetMs ?? 0;
      const shifted = { phrase: hit.phrase, startMs: offset + hit.startMs, endMs: offset + hit.endMs };
      options.analytics.onSpot(this.role, shifted, options.callStartedAt + shifted.endMs);
    });
    speech?.onGap((gap) => {
      const offset = this.audioOffsetMs ?? 0;
      options.analytics.onGap(this.role, offset + gap.startMs, offset + gap.endMs, gap.reason);
    });
    this.results = speech === undefined ? Promise.resolve() : this.consumeResults(speech);
  }

  get snapshot(): LegSnapshot {
    const media = this.options.media.snapshot;
    return {
      role: this.role,
      codec: this.options.codec,
      transport: media.transport,
      host: media.host,
      rtpPort: media.rtpPort,
      rtcpPort: media.rtcpPort,
      remote: media.remote,
      packetsReceived: media.packetsReceived,
      packetsDropped: media.packetsDropped,
      packetsLost: media.packetsLost,
      paused: this.pause?.reason,
    };
  }

  /** Whether the gateway recognises this leg's audio itself (false with `ASR=none`). */
  get recognizes(): boolean {
    return this.options.speech !== undefined;
  }

  get lastPacketAt(): number | undefined {
    return this.options.media.snapshot.lastPacketAt;
  }

  /** The leg's audio clock on the call timeline (ms): where the next sample goes. */
  get callTimeMs(): number {
    return this.audioOffsetMs === undefined ? Math.max(0, Date.now() - this.options.callStartedAt) : this.audioOffsetMs + this.clockMs();
  }

  /**
   * Suspends recognition (secure pause for card entry, PCI DSS; a protocol's
   * pause). Audio keeps its place on the timeline but the recogniser gets
   * silence, so nothing said is transcribed or spotted; resume() marks the
   * hole with a `transcript.gap`. Idempotent: a second pause keeps the first.
   */
  suspend(reason: PauseReason): void {
    if (this.pause || this.closed) return;
    this.pause = { reason, startMs: this.callTimeMs };
    this.options.logger.info({ reason }, 'recognition suspended');
  }

  /** Ends a suspension (no-op when not suspended) and publishes the gap. */
  resume(): void {
    const pause = this.pause;
    if (!pause) return;
    this.pause = undefined;
    const endMs = this.callTimeMs;
    this.options.logger.info({ reason: pause.reason, ms: Math.round(endMs - pause.startMs) }, 'recognition resumed');
    this.options.analytics.onGap(this.role, pause.startMs, endMs, pause.reason);
  }

  get suspended(): PauseReason | undefined {
    return this.pause?.reason;
  }

  private clockMs(): number {
    return this.rate === 0 ? 0 : (this.samples / this.rate) * 1000;
  }

  private onAudio(frame: MediaFrame): void {
    const frameMs = (frame.pcm.length / frame.sampleRate) * 1000;
    this.rate = frame.sampleRate;
    this.audioOffsetMs ??= Math.max(0, frame.receivedAt - frameMs - this.options.callStartedAt);
    const atMs = this.audioOffsetMs + (this.samples / frame.sampleRate) * 1000;
    this.samples += frame.pcm.length;
    const paused = this.pause !== undefined;
    this.options.analytics.onAudioFrame(this.role, atMs, frameMs, frame.concealed || paused ? -100 : frameLevelDb(frame.pcm));
    // Paused: silence in its place keeps recogniser time equal to call time; the VAD skips it cheaply.
    if (paused) frame.pcm.fill(0);
    // The frame is ours (fresh decoder output) and nothing reads it after this: hand it over.
    this.options.speech?.write(frame.pcm, { transfer: true });
  }

  private onDtmf(press: DtmfPress): void {
    if (this.closed) return;
    if (!this.dtmfLimit.admit(Date.now())) {
      this.dtmfDropped++;
      this.options.metrics.dtmfDropped.inc();
      if (this.dtmfDropped === 1) this.options.logger.warn({ perSecond: DTMF_PRESSES_PER_SECOND, burst: DTMF_BURST }, 'DTMF presses over the leg\'s bound are dropped');
      return;
    }
    const atMs = Math.max(0, press.receivedAt - this.options.callStartedAt);
    // During a secure pause the digits are card data: their presence is reported, never their value.
    this.options.analytics.onDtmf(this.role, this.pause?.reason === 'secure-pause' ? undefined : press.digit, atMs, press.durationMs);
    this.emit('dtmf', press);
  }

  private async consumeResults(speech: RecognitionStream): Promise<void> {
    try {
      for await (const result of speech) {
        const offset = this.audioOffsetMs ?? 0;
        const shifted: RecognitionResult = {
          ...result,
          startMs: offset + result.startMs,
          endMs: offset + result.endMs,
          words: result.words.map((w) => ({ ...w, startMs: offset + w.startMs, endMs: offset + w.endMs })),
        };
        this.options.analytics.onRecognition(this.role, shifted, this.options.callStartedAt + shifted.endMs);
      }
    } catch (err) {
      this.options.logger.error({ err }, 'recognition stream failed');
    }
  }

  /**
   * Idempotent. Stops the media, lets the recogniser finish the last
   * utterance (bounded by `flushTimeoutMs`) so its final transcript is not
   * lost, then frees the ports. A suspension still open is closed with its gap.
   */
  async close(flushTimeoutMs = 3000): Promise<void> {
    if (this.closed) return;
    this.resume();
    this.closed = true;
    if (this.dtmfDropped > 0) this.options.logger.info({ dropped: this.dtmfDropped }, 'DTMF presses dropped on this leg');
    await this.options.media.close();
    const { speech } = this.options;
    if (speech === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), flushTimeoutMs);
    });
    const flushed = await Promise.race([speech.end().then(() => 'flushed' as const, () => 'failed' as const), timeout]);
    clearTimeout(timer);
    if (flushed !== 'flushed') this.options.logger.warn({ flushed }, 'final transcript not flushed');
    speech.close();
    await this.results;
  }
}
