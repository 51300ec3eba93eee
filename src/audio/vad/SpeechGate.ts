/**
 * Voice-activity gate in front of a recogniser (one per stream, in the ASR
 * worker, after the resampler).
 *
 * A call leg is silent more than half the time (the other party is talking);
 * decoding silence costs as much CPU as decoding speech. The gate classifies
 * the audio in frames with the WebRTC VAD and passes to the recogniser only:
 *
 * - speech frames;
 * - pre-roll: the last `preRollMs` before the first speech frame, kept in a
 *   small ring buffer and released when speech starts (the VAD reacts a frame
 *   or two late, and recognisers want some silence before a word);
 * - hangover: `hangoverMs` after the last speech frame, so that short pauses
 *   inside an utterance stay in it and the recogniser's own endpointing sees
 *   the end of the utterance.
 *
 * Everything else is dropped. When a hangover expires the gate calls
 * `Recognizer.finish()`, so the final of that utterance is out at once rather
 * than when the next speech arrives.
 *
 * Time: the recogniser only sees the passed audio, so its times are on a
 * compressed clock. The gate remembers where it skipped audio (a bounded list
 * of skip points) and maps every result back to the gate's input timeline
 * (ms from the first sample given to {@link SpeechGate.process}).
 *
 * Tuning:
 * - `mode` (0-3, default 2): WebRTC VAD aggressiveness. Higher drops more
 *   noise but risks clipping quiet speech; 2 suits telephone audio.
 * - `preRollMs` (default 300): audio released before detected speech.
 * - `hangoverMs` (default 600): audio passed after the last speech frame;
 *   must stay above the recogniser's endpoint silence (pocketsphinx needs
 *   ~300-500 ms) or utterances are split at every pause.
 * - `frameMs` (10/20/30, default 20): VAD frame; up to one frame of latency.
 */
import type { Recognizer } from '../../asr/engines/Engine.js';
import type { RecognitionResult } from '../../asr/types.js';
import { WebRtcVad, type VadFrameMs, type VadMode } from './WebRtcVad.js';

export interface SpeechGateTuning {
  /** WebRTC VAD aggressiveness 0-3. Default 2. */
  readonly mode?: VadMode;
  /** Audio kept before speech starts and released with it. Default 300 ms. */
  readonly preRollMs?: number;
  /** Audio still passed after the last speech frame. Default 600 ms. */
  readonly hangoverMs?: number;
  /** VAD frame length. Default 20 ms. */
  readonly frameMs?: VadFrameMs;
}

export interface SpeechGateOptions extends SpeechGateTuning {
  /** Rate of the PCM given to `process` (the recogniser's rate). */
  readonly sampleRate: number;
}

export const DEFAULT_VAD_MODE: VadMode = 2;
export const DEFAULT_PRE_ROLL_MS = 300;
export const DEFAULT_HANGOVER_MS = 600;
/** Skip points kept; an utterance never spans a skip (the gate finishes it first), so few are ever needed. */
const MAX_SKIP_POINTS = 64;

interface SkipPoint {
  /** Recogniser sample index from which `skipped` applies. */
  readonly fedAt: number;
  /** Input samples skipped before that point in total. */
  readonly skipped: number;
}

export class SpeechGate {
  readonly sampleRate: number;
  readonly preRollMs: number;
  readonly hangoverMs: number;
  private readonly vad: WebRtcVad;
  private readonly frameSamples: number;
  private readonly preRollFrames: number;
  private readonly hangoverFrames: number;

  /** Ring of frame buffers: [0, preRollFrames) hold pre-roll; one more is being filled. */
  private readonly ring: Int16Array[];
  private ringStart = 0;
  private ringCount = 0;
  private fill: Int16Array;
  private fillLength = 0;

  private active = false;
  private hangoverLeft = 0;
  /** Samples given to the recogniser (its clock). */
  private fed = 0;
  /** Samples dropped (or currently held in the ring, not yet decided: see `skippedSamples`). */
  private dropped = 0;
  private readonly points: SkipPoint[] = [{ fedAt: 0, skipped: 0 }];
  private received = 0;

  private constructor(vad: WebRtcVad, options: SpeechGateOptions) {
    this.vad = vad;
    this.sampleRate = options.sampleRate;
    this.frameSamples = vad.frameSamples;
    this.preRollMs = options.preRollMs ?? DEFAULT_PRE_ROLL_MS;
    this.hangoverMs = options.hangoverMs ?? DEFAULT_HANGOVER_MS;
    for (const [name, value] of [['preRollMs', this.preRollMs], ['hangoverMs', this.hangoverMs]] as const) {
      if (!Number.isFinite(value) || value < 0 || value > 10_000) throw new RangeError(`${name} must be 0-10000, got ${value}`);
    }
    this.preRollFrames = Math.ceil(this.preRollMs / vad.frameMs);
    this.hangoverFrames = Math.max(1, Math.ceil(this.hangoverMs / vad.frameMs));
    this.ring = Array.from({ length: this.preRollFrames + 1 }, () => new Int16Array(this.frameSamples));
    this.fill = this.ring[0] as Int16Array;
  }

  static async create(options: SpeechGateOptions): Promise<SpeechGate> {
    const vad = await WebRtcVad.create({ sampleRate: options.sampleRate, frameMs: options.frameMs ?? 20, mode: options.mode ?? DEFAULT_VAD_MODE });
    try {
      return new SpeechGate(vad, options);
    } catch (err) {
      vad.free();
      throw err;
    }
  }

  /** Input samples dropped so far (not given to the recogniser, and never will be). */
  get skippedSamples(): number {
    return this.dropped;
  }

  /** Input samples given to the recogniser so far. */
  get passedSamples(): number {
    return this.fed;
  }

  /** True while speech or its hangover is passing. */
  get isOpen(): boolean {
    return this.active;
  }

  /**
   * Feeds one chunk (any length) through the gate into `recognizer` and
   * returns its results on the gate's input timeline. Holds back at most one
   * frame of audio.
   */
  process(pcm: Int16Array, recognizer: Recognizer): RecognitionResult[] {
    let out: RecognitionResult[] = [];
    this.received += pcm.length;
    let offset = 0;
    while (offset < pcm.length) {
      const n = Math.min(this.frameSamples - this.fillLength, pcm.length - offset);
      this.fill.set(pcm.subarray(offset, offset + n), this.fillLength);
      this.fillLength += n;
      offset += n;
      if (this.fillLength < this.frameSamples) break;
      out = this.frame(recognizer, out);
    }
    return out;
  }

  /**
   * The stream ends an utterance (e.g. the call ended): passes the partial
   * frame if speech is in progress, drops held pre-roll, and finishes the
   * recogniser's utterance. The gate then waits for speech again.
   */
  finish(recognizer: Recognizer): RecognitionResult[] {
    let out: RecognitionResult[] = [];
    if (this.fillLength > 0) {
      if (this.active) out = this.feed(recognizer, this.fill.subarray(0, this.fillLength), out);
      else this.dropped += this.fillLength;
      this.fillLength = 0;
    }
    this.dropPreRoll();
    this.active = false;
    this.hangoverLeft = 0;
    return this.map(recognizer.finish(), out);
  }

  /** Frees the VAD. Idempotent; the recogniser is not the gate's to free. */
  free(): void {
    this.vad.free();
  }

  /** Alias of {@link free}. */
  dispose(): void {
    this.free();
  }

  /** Maps a recogniser time (ms) to the gate's input timeline. `end` times at a skip point belong before it. */
  toStreamMs(recognizerMs: number, end = false): number {
    const fedAt = (recognizerMs * this.sampleRate) / 1000;
    let skipped = 0;
    for (let i = this.points.length - 1; i >= 0; i--) {
      const p = this.points[i] as SkipPoint;
      if (end ? p.fedAt < fedAt : p.fedAt <= fedAt) {
        skipped = p.skipped;
        break;
      }
    }
    return recognizerMs + (skipped * 1000) / this.sampleRate;
  }

  // ---- internals ----

  /** `fill` holds a complete frame: classify it and route it. */
  private frame(recognizer: Recognizer, out: RecognitionResult[]): RecognitionResult[] {
    const frame = this.fill;
    this.fillLength = 0;
    const speech = this.vad.isSpeech(frame);
    if (this.active) {
      out = this.feed(recognizer, frame, out);
      if (speech) this.hangoverLeft = this.hangoverFrames;
      else if (--this.hangoverLeft <= 0) {
        this.active = false;
        out = this.map(recognizer.finish(), out);
      }
      return out;
    }
    // Idle. `frame` is the ring slot after the held pre-roll frames.
    if (speech) {
      // Speech starts: release the pre-roll, then this frame.
      this.active = true;
      this.hangoverLeft = this.hangoverFrames;
      this.addSkipPoint();
      for (let i = 0; i < this.ringCount; i++) {
        out = this.feed(recognizer, this.ring[(this.ringStart + i) % this.ring.length] as Int16Array, out);
      }
      out = this.feed(recognizer, frame, out);
      this.ringStart = 0;
      this.ringCount = 0;
    } else if (this.ringCount === this.preRollFrames) {
      // The frame joins the pre-roll; the oldest held frame (or, without pre-roll, this one) is dropped.
      this.dropped += this.frameSamples;
      this.ringStart = (this.ringStart + 1) % this.ring.length;
    } else {
      this.ringCount++;
    }
    this.fill = this.ring[(this.ringStart + this.ringCount) % this.ring.length] as Int16Array;
    return out;
  }

  private feed(recognizer: Recognizer, pcm: Int16Array, out: RecognitionResult[]): RecognitionResult[] {
    const results = recognizer.accept(pcm);
    this.fed += pcm.length;
    return this.map(results, out);
  }

  private dropPreRoll(): void {
    this.dropped += this.ringCount * this.frameSamples;
    this.ringStart = 0;
    this.ringCount = 0;
    this.fill = this.ring[0] as Int16Array;
  }

  private addSkipPoint(): void {
    const last = this.points[this.points.length - 1] as SkipPoint;
    if (last.skipped === this.dropped) return;
    if (last.fedAt === this.fed) this.points[this.points.length - 1] = { fedAt: this.fed, skipped: this.dropped };
    else this.points.push({ fedAt: this.fed, skipped: this.dropped });
    if (this.points.length > MAX_SKIP_POINTS) this.points.shift();
  }

  private map(results: RecognitionResult[], out: RecognitionResult[]): RecognitionResult[] {
    for (const r of results) {
      out.push({
        ...r,
        startMs: this.toStreamMs(r.startMs),
        endMs: this.toStreamMs(r.endMs, true),
        words: r.words.map((w) => ({ ...w, startMs: this.toStreamMs(w.startMs), endMs: this.toStreamMs(w.endMs, true) })),
      });
    }
    return out;
  }
}
