import type { Logger } from '../logger.js';
import type { Language } from '../language.js';
import type { GatewayMetrics } from '../metrics.js';
import { errorMessage } from '../errors.js';
import type { RecognitionStream, SpeechGap } from './SpeechService.js';
import type { RecognitionResult, SpotHit, WordTiming } from './types.js';

/** How the pool carries a stream's traffic; implemented by AsrWorkerPool. */
export interface StreamTransport {
  /** Posts (transfers) one chunk to the stream's worker; false if it could not be sent. */
  sendAudio(streamId: number, pcm: ArrayBuffer): boolean;
  /** Resolves once the worker has flushed the final result (all results delivered before). */
  end(streamId: number): Promise<void>;
  /** Frees the worker-side recogniser. Idempotent. */
  close(streamId: number): void;
}

export interface SpeechStreamOptions {
  readonly id: number;
  readonly language: Language;
  readonly inputSampleRate: number;
  readonly transport: StreamTransport;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Audio sent but not yet processed by the worker beyond which writes are dropped. Default 5000 ms. */
  readonly maxBufferedAudioMs?: number;
  /** Results waiting for the consumer beyond which the oldest partials are dropped. Default 1000. */
  readonly maxQueuedResults?: number;
}

/** The pool's side of a stream: inputs from the worker and supervision. */
export interface SpeechStreamController {
  readonly stream: SpeechStream;
  /** Results from the current worker, in recogniser time. */
  deliver(results: readonly RecognitionResult[]): void;
  /** Spot hits from the current worker, in recogniser time. */
  deliverSpots(hits: readonly SpotHit[]): void;
  /** The worker consumed `samples` input samples. */
  acknowledge(samples: number): void;
  /**
   * The stream is being re-opened on a replacement worker: audio in flight to
   * the old one is lost. Returns the lost audio in ms (for the log).
   */
  rebind(): number;
  /** Fatal error: the iterator throws it once queued results are consumed. */
  fail(error: Error): void;
  /** The pool shut down: end iteration without contacting the worker. */
  detach(): void;
}

interface Breakpoint {
  /** Recogniser time (ms) from which `shiftMs` applies. */
  readonly atMs: number;
  readonly shiftMs: number;
}

const MAX_BREAKPOINTS = 256;

/**
 * Main-thread handle of one recognition stream (one call leg): the local
 * pool's {@link RecognitionStream}.
 *
 * Write 16-bit mono PCM at `inputSampleRate` with {@link write}; consume
 * results with `for await (const result of stream)`. Result times are ms from
 * the first sample written, even across dropped audio and worker restarts.
 *
 * Single consumer: one iterator at a time.
 */
export class SpeechStream implements RecognitionStream {
  readonly id: number;
  readonly language: Language;
  readonly inputSampleRate: number;

  private readonly transport: StreamTransport;
  private readonly metrics: GatewayMetrics;
  private readonly logger: Logger;
  private readonly maxPendingSamples: number;
  private readonly maxQueuedResults: number;

  private state: 'open' | 'ending' | 'closed' = 'open';
  private endPromise: Promise<void> | undefined;
  /** Samples sent to the worker and not yet acknowledged. */
  private pendingSamples = 0;
  /** Every sample written, dropped or not: the stream clock. */
  private writtenSamples = 0;
  /** Samples sent to the current recogniser (its clock). */
  private fedSamples = 0;
  /** Stream time (ms) at the end of the last chunk sent: audio in flight ends there, drops may follow it. */
  private sentEndMs = 0;
  /** Maps recogniser time to stream time; changes at drops and restarts. */
  private breakpoints: Breakpoint[] = [{ atMs: 0, shiftMs: 0 }];
  private utteranceBase = 0;
  private nextUtteranceId = 0;

  private readonly queue: RecognitionResult[] = [];
  private readonly waiters: { resolve: (r: IteratorResult<RecognitionResult>) => void; reject: (e: Error) => void }[] = [];
  private finished = false;
  private failure: Error | undefined;

  private droppedSamples = 0;
  private droppedPartials = 0;
  /** Consecutive dropped audio not yet reported as a gap (one gap per run of drops), stream ms. */
  private dropRun: { startMs: number; endMs: number } | undefined;
  /** The newest partial of an utterance without its final yet: published as the final if the recogniser is lost. */
  private openPartial: RecognitionResult | undefined;
  private gapListener: ((gap: SpeechGap) => void) | undefined;
  private spotListener: ((hit: SpotHit) => void) | undefined;

  private constructor(options: SpeechStreamOptions) {
    this.id = options.id;
    this.language = options.language;
    this.inputSampleRate = options.inputSampleRate;
    this.transport = options.transport;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.maxPendingSamples = Math.round(((options.maxBufferedAudioMs ?? 5000) * this.inputSampleRate) / 1000);
    this.maxQueuedResults = options.maxQueuedResults ?? 1000;
  }

  /** @internal Used by AsrWorkerPool; returns the stream and the pool's controller for it. */
  static create(options: SpeechStreamOptions): SpeechStreamController {
    const stream = new SpeechStream(options);
    return {
      stream,
      deliver: (results) => stream.deliver(results),
      deliverSpots: (hits) => stream.deliverSpots(hits),
      acknowledge: (samples) => {
        stream.pendingSamples = Math.max(0, stream.pendingSamples - samples);
      },
      rebind: () => stream.rebind(),
      fail: (error) => stream.fail(error),
      detach: () => stream.detach(),
    };
  }

  /** Called when part of the stream will never be recognised, so the transcript can mark it. */
  onGap(listener: (gap: SpeechGap) => void): void {
    this.gapListener = listener;
  }

  /** Audio dropped so far by the backlog bound, in ms. */
  get droppedAudioMs(): number {
    return (this.droppedSamples * 1000) / this.inputSampleRate;
  }

  /** Partial results dropped because the consumer lagged. */
  get droppedResults(): number {
    return this.droppedPartials;
  }

  /** Audio sent to the worker but not yet processed, in ms. */
  get bufferedAudioMs(): number {
    return (this.pendingSamples * 1000) / this.inputSampleRate;
  }

  /**
   * Queues PCM for recognition. Never throws; ignored after end()/close().
   * With `transfer: true` the caller gives up `pcm`: its buffer is moved to
   * the worker without a copy and is detached afterwards.
   *
   * Backpressure policy: if the worker has not yet processed more than
   * `maxBufferedAudioMs` (default 5 s) of this stream's audio, the new chunk
   * is dropped whole and counted in sgw_asr_audio_dropped_seconds_total.
   * Dropping keeps latency bounded for a live call (late transcripts are
   * worthless to an agent) and memory bounded; result times still count the
   * dropped audio, so they stay aligned with the call.
   */
  write(pcm: Int16Array, options: { readonly transfer?: boolean } = {}): void {
    try {
      if (this.state !== 'open' || pcm.length === 0) return;
      const n = pcm.length;
      this.writtenSamples += n;
      if (this.pendingSamples + n > this.maxPendingSamples) {
        this.drop(n);
        return;
      }
      // A caller that hands the buffer over (fresh decoder output) saves a copy per frame;
      // otherwise copy, since the caller may reuse its buffer or pass a view into a larger one.
      const whole = options.transfer === true && pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength && pcm.buffer instanceof ArrayBuffer;
      const buffer = whole ? pcm.buffer : pcm.slice().buffer;
      if (!this.transport.sendAudio(this.id, buffer)) {
        this.drop(n);
        return;
      }
      this.reportDropRun();
      this.pendingSamples += n;
      this.fedSamples += n;
      this.sentEndMs = (this.writtenSamples * 1000) / this.inputSampleRate;
    } catch (err) {
      this.logger.error({ streamId: this.id, err: errorMessage(err) }, 'speech stream write failed');
    }
  }

  /**
   * Flushes the utterance in progress as a final result and releases the
   * recogniser; the iterator ends after that final. Idempotent.
   */
  end(): Promise<void> {
    if (this.endPromise) return this.endPromise;
    if (this.state === 'closed') return (this.endPromise = Promise.resolve());
    this.state = 'ending';
    this.reportDropRun();
    this.endPromise = this.transport
      .end(this.id)
      .catch((err: unknown) => {
        this.logger.warn({ streamId: this.id, err: errorMessage(err) }, 'speech stream end failed');
      })
      .finally(() => this.close());
    return this.endPromise;
  }

  /** Stops recognition now (no final flush); queued results stay readable. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.reportDropRun();
    try {
      this.transport.close(this.id);
    } finally {
      this.finish();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<RecognitionResult> {
    return {
      next: () => this.next(),
      // Leaving a for-await loop early means nobody reads this stream any more.
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private next(): Promise<IteratorResult<RecognitionResult>> {
    const item = this.queue.shift();
    if (item) return Promise.resolve({ done: false, value: item });
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Phrases the stream's spotter heard (streams opened with a spotting mode),
   * in stream time. Called synchronously on arrival: hits are few and their
   * value is latency, so they do not queue behind transcripts.
   */
  onSpot(listener: (hit: SpotHit) => void): void {
    this.spotListener = listener;
  }

  private deliverSpots(hits: readonly SpotHit[]): void {
    if (this.finished) return;
    for (const hit of hits) {
      const mapped: SpotHit = { phrase: hit.phrase, startMs: Math.round(hit.startMs + this.shiftAt(hit.startMs)), endMs: Math.round(hit.endMs + this.shiftAt(hit.endMs)) };
      try {
        this.spotListener?.(mapped);
      } catch (err) {
        this.logger.error({ streamId: this.id, err: errorMessage(err) }, 'spot listener failed');
      }
    }
  }

  private deliver(results: readonly RecognitionResult[]): void {
    if (this.finished) return;
    for (const raw of results) this.enqueue(this.toStreamTime(raw));
  }

  /** `result` in stream time. */
  private enqueue(result: RecognitionResult): void {
    this.nextUtteranceId = Math.max(this.nextUtteranceId, result.utteranceId + 1);
    this.openPartial = result.final ? undefined : result;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ done: false, value: result });
      return;
    }
    this.queue.push(result);
    if (this.queue.length > this.maxQueuedResults) {
      // Partials are superseded by later results anyway; finals carry the transcript.
      const oldestPartial = this.queue.findIndex((r) => !r.final);
      if (oldestPartial >= 0) {
        this.queue.splice(oldestPartial, 1);
        this.droppedPartials++;
      }
    }
  }

  private toStreamTime(r: RecognitionResult): RecognitionResult {
    const map = (ms: number): number => Math.round(ms + this.shiftAt(ms));
    const words: WordTiming[] = r.words.map((w) => ({ ...w, startMs: map(w.startMs), endMs: map(w.endMs) }));
    return { ...r, utteranceId: this.utteranceBase + r.utteranceId, startMs: map(r.startMs), endMs: map(r.endMs), words };
  }

  private shiftAt(ms: number): number {
    for (let i = this.breakpoints.length - 1; i >= 0; i--) {
      const bp = this.breakpoints[i];
      if (bp && bp.atMs <= ms) return bp.shiftMs;
    }
    return this.breakpoints[0]?.shiftMs ?? 0;
  }

  private drop(samples: number): void {
    const seconds = samples / this.inputSampleRate;
    this.metrics.asrAudioDropped.inc(seconds);
    if (this.droppedSamples === 0) {
      this.logger.warn({ streamId: this.id, bufferedMs: Math.round(this.bufferedAudioMs) }, 'recogniser backlog full, dropping audio');
    }
    this.droppedSamples += samples;
    const endMs = (this.writtenSamples * 1000) / this.inputSampleRate;
    const startMs = endMs - seconds * 1000;
    if (this.dropRun !== undefined && Math.abs(this.dropRun.endMs - startMs) < 1e-6) this.dropRun.endMs = endMs;
    else {
      this.reportDropRun();
      this.dropRun = { startMs, endMs };
    }
    // Later recogniser time is shifted by the dropped audio.
    const atMs = (this.fedSamples * 1000) / this.inputSampleRate;
    const last = this.breakpoints[this.breakpoints.length - 1];
    const shiftMs = (last?.shiftMs ?? 0) + seconds * 1000;
    if (last && last.atMs === atMs) this.breakpoints[this.breakpoints.length - 1] = { atMs, shiftMs };
    else this.breakpoints.push({ atMs, shiftMs });
    if (this.breakpoints.length > MAX_BREAKPOINTS) this.breakpoints.shift();
  }

  private rebind(): number {
    const lostMs = (this.pendingSamples * 1000) / this.inputSampleRate;
    // Audio in flight is the last audio sent; anything written after it was dropped (its own gap).
    const endMs = this.sentEndMs;
    this.reportDropRun();
    // The utterance in progress died with the recogniser: what it had heard so far is its final.
    // The rest of it (after that partial, processed or not) was never recognised.
    const cut = this.openPartial;
    if (cut !== undefined && cut.text !== '' && !this.finished) this.enqueue({ ...cut, final: true });
    this.openPartial = undefined;
    const startMs = cut === undefined ? endMs - lostMs : Math.min(cut.endMs, endMs - lostMs);
    this.reportGap({ startMs, endMs, reason: 'asr-worker-restart' });
    // The new recogniser's time 0 is "now" on the stream clock; unprocessed audio became a gap.
    this.breakpoints = [{ atMs: 0, shiftMs: (this.writtenSamples * 1000) / this.inputSampleRate }];
    this.fedSamples = 0;
    this.pendingSamples = 0;
    this.utteranceBase = this.nextUtteranceId;
    return lostMs;
  }

  /** One gap per run of dropped chunks, reported when the run ends (a write got through, end, close, rebind). */
  private reportDropRun(): void {
    const run = this.dropRun;
    if (run === undefined) return;
    this.dropRun = undefined;
    this.reportGap({ startMs: run.startMs, endMs: run.endMs, reason: 'asr-backlog' });
  }

  private reportGap(gap: SpeechGap): void {
    try {
      this.gapListener?.(gap);
    } catch (err) {
      this.logger.error({ streamId: this.id, err: errorMessage(err) }, 'gap listener failed');
    }
  }

  private fail(error: Error): void {
    if (this.state === 'closed' && this.finished) return;
    this.state = 'closed';
    this.failure = error;
    this.finish();
  }

  private detach(): void {
    this.state = 'closed';
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const waiter of this.waiters.splice(0)) {
      const failure = this.failure;
      this.failure = undefined;
      if (failure) waiter.reject(failure);
      else waiter.resolve({ done: true, value: undefined });
    }
  }
}
