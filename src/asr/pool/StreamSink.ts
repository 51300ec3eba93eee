import type { Recognizer, Spotter } from '../engines/Engine.js';
import type { HighBandFill } from '../../audio/HighBandFill.js';
import { type Bandwidth, BandwidthProbe } from '../../audio/BandwidthProbe.js';
import type { RecognitionResult, SpotHit, WordTiming } from '../types.js';

/** The telephone-profile recogniser and spotter for a wideband leg that turns out to carry telephone speech. */
export interface NarrowbandSwitch {
  readonly probe: BandwidthProbe;
  /** Makes the narrowband pair (the same parts as the stream's: recogniser, spotter or both). */
  readonly create: () => { recognizer: Recognizer | null; spotter: Spotter | null };
  /** Told once, when the probe has decided (with the error if the narrowband pair could not be made: the stream stays as it was). */
  readonly onDecided?: (bandwidth: Bandwidth, highBandDb: number, error?: unknown) => void;
}

/**
 * What one stream's audio flows into inside a worker, after resampling and
 * the voice-activity gate: the free-transcript recogniser, the phrase spotter,
 * or both; the spotter optionally behind the telephone high-band fill (it
 * helps keyword spotting on 8 kHz audio and hurts the language-model search:
 * docs/asr.md). It is itself a
 * {@link Recognizer}, so the gate (which also ends utterances at pauses) feeds
 * it unchanged; spot hits are collected on the side, in recogniser time.
 *
 * With a {@link NarrowbandSwitch} (a wideband leg on an engine with a
 * telephone profile) the first speech is held back, at most the probe's
 * length, until the probe tells whether it is telephone speech; if it is, the
 * recogniser and spotter are replaced by the telephone profile's before any
 * of that speech is decoded. An utterance that ends before the probe has
 * decided is decoded with what the stream has, and the probe goes on with
 * the next. Results keep one time base and one sequence of utterance ids
 * across the switch.
 */
export class StreamSink implements Recognizer {
  readonly sampleRate: number;
  private hits: SpotHit[] = [];
  private switcher: NarrowbandSwitch | undefined;
  /** Speech of the current utterance held back while the probe decides (bounded by the probe's length). */
  private held: Int16Array[] = [];
  /** Samples fed to the current recogniser and spotter, and before them, for the switch's time base. */
  private fedSamples = 0;
  private offsetMs = 0;
  private idOffset = 0;
  private lastId = 0;

  constructor(
    private recognizer: Recognizer | null,
    private spotter: Spotter | null,
    private readonly fill: HighBandFill | null,
    narrowband?: NarrowbandSwitch,
  ) {
    const rate = recognizer?.sampleRate ?? spotter?.sampleRate;
    if (rate === undefined) throw new RangeError('a stream needs a recogniser, a spotter or both');
    if (recognizer && spotter && recognizer.sampleRate !== spotter.sampleRate) {
      throw new RangeError(`recogniser (${recognizer.sampleRate} Hz) and spotter (${spotter.sampleRate} Hz) rates differ`);
    }
    this.sampleRate = rate;
    this.switcher = narrowband;
  }

  accept(pcm: Int16Array): RecognitionResult[] {
    const switcher = this.switcher;
    if (switcher === undefined) return this.feed(pcm);
    // The gate may hand out views of its own buffers: keep a copy.
    this.held.push(pcm.slice());
    switcher.probe.add(pcm);
    if (!switcher.probe.ready) return [];
    this.decide(switcher);
    return this.release();
  }

  finish(): RecognitionResult[] {
    const results = this.release();
    if (this.spotter) this.hits.push(...this.shiftHits(this.spotter.finish()));
    return this.recognizer ? [...results, ...this.shift(this.recognizer.finish())] : results;
  }

  /** Spot hits since the last call, in recogniser time. */
  takeHits(): SpotHit[] {
    const hits = this.hits;
    this.hits = [];
    return hits;
  }

  /** Frees both; idempotent like theirs. */
  free(): void {
    this.held = [];
    try {
      this.recognizer?.free();
    } finally {
      this.spotter?.free();
    }
  }

  private decide(switcher: NarrowbandSwitch): void {
    this.switcher = undefined;
    const bandwidth = switcher.probe.bandwidth;
    if (bandwidth === 'wideband') {
      switcher.onDecided?.(bandwidth, switcher.probe.highBandDb);
      return;
    }
    let next: ReturnType<NarrowbandSwitch['create']>;
    try {
      next = switcher.create();
    } catch (err) {
      switcher.onDecided?.(bandwidth, switcher.probe.highBandDb, err);
      return;
    }
    switcher.onDecided?.(bandwidth, switcher.probe.highBandDb);
    try {
      this.recognizer?.free();
    } finally {
      this.spotter?.free();
    }
    this.recognizer = next.recognizer;
    this.spotter = next.spotter;
    // The new recogniser counts time and utterances from zero.
    this.offsetMs += (this.fedSamples * 1000) / this.sampleRate;
    this.fedSamples = 0;
    this.idOffset = this.lastId;
  }

  private release(): RecognitionResult[] {
    if (this.held.length === 0) return [];
    const held = this.held;
    this.held = [];
    return held.flatMap((pcm) => this.feed(pcm));
  }

  private feed(pcm: Int16Array): RecognitionResult[] {
    this.fedSamples += pcm.length;
    if (this.spotter) {
      this.hits.push(...this.shiftHits(this.spotter.accept(this.fill ? this.fill.process(pcm.slice()) : pcm)));
    }
    return this.recognizer ? this.shift(this.recognizer.accept(pcm)) : [];
  }

  private shift(results: RecognitionResult[]): RecognitionResult[] {
    for (const r of results) this.lastId = Math.max(this.lastId, r.utteranceId + this.idOffset);
    if (this.offsetMs === 0 && this.idOffset === 0) return results;
    const words = (ws: readonly WordTiming[]): WordTiming[] => ws.map((w) => ({ ...w, startMs: w.startMs + this.offsetMs, endMs: w.endMs + this.offsetMs }));
    return results.map((r) => ({
      ...r,
      utteranceId: r.utteranceId + this.idOffset,
      startMs: r.startMs + this.offsetMs,
      endMs: r.endMs + this.offsetMs,
      words: words(r.words),
      ...(r.alternatives === undefined ? {} : { alternatives: r.alternatives.map((a) => ({ ...a, words: words(a.words) })) }),
    }));
  }

  private shiftHits(hits: SpotHit[]): SpotHit[] {
    return this.offsetMs === 0 ? hits : hits.map((h) => ({ ...h, startMs: h.startMs + this.offsetMs, endMs: h.endMs + this.offsetMs }));
  }
}
