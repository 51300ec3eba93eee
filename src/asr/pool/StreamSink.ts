import type { Recognizer, Spotter } from '../engines/Engine.js';
import type { HighBandFill } from '../../audio/HighBandFill.js';
import type { RecognitionResult, SpotHit } from '../types.js';

/**
 * What one stream's audio flows into inside a worker, after resampling and
 * the voice-activity gate: the free-transcript recogniser, the phrase spotter,
 * or both; the spotter optionally behind the telephone high-band fill (it
 * helps keyword spotting on 8 kHz audio and hurts the language-model search:
 * docs/asr.md). It is itself a
 * {@link Recognizer}, so the gate (which also ends utterances at pauses) feeds
 * it unchanged; spot hits are collected on the side, in recogniser time.
 */
export class StreamSink implements Recognizer {
  readonly sampleRate: number;
  private hits: SpotHit[] = [];

  constructor(
    private readonly recognizer: Recognizer | null,
    private readonly spotter: Spotter | null,
    private readonly fill: HighBandFill | null,
  ) {
    const rate = recognizer?.sampleRate ?? spotter?.sampleRate;
    if (rate === undefined) throw new RangeError('a stream needs a recogniser, a spotter or both');
    if (recognizer && spotter && recognizer.sampleRate !== spotter.sampleRate) {
      throw new RangeError(`recogniser (${recognizer.sampleRate} Hz) and spotter (${spotter.sampleRate} Hz) rates differ`);
    }
    this.sampleRate = rate;
  }

  accept(pcm: Int16Array): RecognitionResult[] {
    if (this.spotter) {
      // The gate may hand out views of its own buffers, and the recogniser needs the original: fill a copy.
      this.hits.push(...this.spotter.accept(this.fill ? this.fill.process(pcm.slice()) : pcm));
    }
    return this.recognizer ? this.recognizer.accept(pcm) : [];
  }

  finish(): RecognitionResult[] {
    if (this.spotter) this.hits.push(...this.spotter.finish());
    return this.recognizer ? this.recognizer.finish() : [];
  }

  /** Spot hits since the last call, in recogniser time. */
  takeHits(): SpotHit[] {
    const hits = this.hits;
    this.hits = [];
    return hits;
  }

  /** Frees both; idempotent like theirs. */
  free(): void {
    try {
      this.recognizer?.free();
    } finally {
      this.spotter?.free();
    }
  }
}
