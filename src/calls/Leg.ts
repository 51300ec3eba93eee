import { EventEmitter } from 'node:events';
import type { CallAnalytics } from '../analytics/CallAnalytics.js';
import type { RecognitionStream } from '../asr/SpeechService.js';
import type { RecognitionResult } from '../asr/types.js';
import type { CodecSpec } from '../audio/codecs/Codec.js';
import { frameLevelDb } from '../audio/levels.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { LegRole, PauseReason } from '../events.js';
import { DTMF_BURST, DTMF_PRESSES_PER_SECOND, DtmfRateLimit } from './DtmfRateLimit.js';
import type { DtmfPress, LegMedia, MediaFrame, SkippedTimeReason } from './media/LegMedia.js';
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

/** Silence the recogniser gets before time it never hears (a pause, discarded audio), so the utterance the skip cuts ends there (VAD hangover 600 ms, endpointing). */
const SETTLE_MS = 1000;
/** Time skips remembered to map recogniser time to call time; older ones are folded into the base shift. */
const MAX_SKIPS = 256;

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
  /** Call time skipped without audio (a platform's pause or discarded audio), ms. */
  private skippedMs = 0;
  /**
   * Where recogniser time (ms of audio written to the recogniser) jumps on
   * the call timeline: from `atMs` on, results are `shiftMs` later.
   */
  private skips: { readonly atMs: number; readonly shiftMs: number }[] = [];
  private baseShiftMs = 0;
  private readonly dtmfLimit = new DtmfRateLimit();
  private dtmfDropped = 0;

  constructor(private readonly options: LegOptions) {
    super();
    this.role = options.role;
    options.media.on('audio', (frame) => this.onAudio(frame));
    options.media.on('dtmf', (press) => this.onDtmf(press));
    options.media.on('skipTime', (ms, reason) => this.onSkipTime(ms, reason));
    options.media.once('bye', () => this.emit('bye'));
    const { speech } = options;
    speech?.onSpot((hit) => {
      const shifted = { phrase: hit.phrase, startMs: this.toCallTime(hit.startMs), endMs: this.toCallTime(hit.endMs) };
      options.analytics.onSpot(this.role, shifted, options.callStartedAt + shifted.endMs);
    });
    speech?.onGap((gap) => {
      options.analytics.onGap(this.role, this.toCallTime(gap.startMs), this.toCallTime(gap.endMs), gap.reason);
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
    return this.audioOffsetMs === undefined ? Math.max(0, Date.now() - this.options.callStartedAt) : this.audioOffsetMs + this.clockMs() + this.skippedMs;
  }

  /** A recogniser time (ms from the first sample written) on the call timeline. */
  private toCallTime(ms: number): number {
    let shift = this.baseShiftMs;
    for (let i = this.skips.length - 1; i >= 0; i--) {
      const skip = this.skips[i];
      if (skip !== undefined && skip.atMs <= ms) {
        shift = skip.shiftMs;
        break;
      }
    }
    return (this.audioOffsetMs ?? 0) + ms + shift;
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
    const atMs = this.audioOffsetMs + (this.samples / frame.sampleRate) * 1000 + this.skippedMs;
    this.samples += frame.pcm.length;
    const paused = this.pause !== undefined;
    this.options.analytics.onAudioFrame(this.role, atMs, frameMs, frame.concealed || paused ? -100 : frameLevelDb(frame.pcm));
    // Paused: silence in its place keeps recogniser time equal to call time; the VAD skips it cheaply.
    if (paused) frame.pcm.fill(0);
    // The frame is ours (fresh decoder output) and nothing reads it after this: hand it over.
    this.options.speech?.write(frame.pcm, { transfer: true });
  }

  /**
   * `ms` of the leg's time passes without audio (a platform's pause, or
   * audio it discarded): the recogniser gets at most {@link SETTLE_MS} of
   * silence and the rest is time on the call timeline only, so a long pause
   * is not audio to recognise (nor a backlog to drop). With a `reason` the
   * span is marked with a `transcript.gap`; a pause is marked by resume().
   */
  private onSkipTime(ms: number, reason: SkippedTimeReason | undefined): void {
    if (this.closed || !(ms > 0)) return;
    this.audioOffsetMs ??= Math.max(0, Date.now() - ms - this.options.callStartedAt);
    const startMs = this.callTimeMs;
    let restMs = ms;
    if (this.rate > 0) {
      const settle = Math.round((Math.min(ms, SETTLE_MS) * this.rate) / 1000);
      if (settle > 0) this.onAudio({ pcm: new Int16Array(settle), sampleRate: this.rate, receivedAt: Date.now(), concealed: true });
      restMs = ms - (settle / this.rate) * 1000;
    }
    if (restMs > 0) {
      // Analytics' timeline goes on as silence (talk time, dead air); the recogniser's does not.
      this.options.analytics.onAudioFrame(this.role, startMs + (ms - restMs), restMs, -100);
      this.skippedMs += restMs;
      const atMs = this.clockMs();
      const last = this.skips[this.skips.length - 1];
      if (last !== undefined && last.atMs === atMs) this.skips[this.skips.length - 1] = { atMs, shiftMs: this.skippedMs };
      else this.skips.push({ atMs, shiftMs: this.skippedMs });
      if (this.skips.length > MAX_SKIPS) this.baseShiftMs = this.skips.shift()?.shiftMs ?? this.baseShiftMs;
    }
    if (reason !== undefined) this.options.analytics.onGap(this.role, startMs, this.callTimeMs, reason);
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
        const shifted: RecognitionResult = {
          ...result,
          startMs: this.toCallTime(result.startMs),
          endMs: this.toCallTime(result.endMs),
          words: result.words.map((w) => ({ ...w, startMs: this.toCallTime(w.startMs), endMs: this.toCallTime(w.endMs) })),
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
