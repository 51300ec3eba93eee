import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { Upsampler2x } from './Upsampler2x.js';

/** The wasm-backed converter; only the calls used here. */
interface SrcConverter {
  full(dataIn: Float32Array, dataOut?: Float32Array | null, outLength?: { frames: number } | null): Float32Array;
  destroy(): void;
}

/** Which converter: the default picks the half-band upsampler for exactly 2x up, libsamplerate otherwise. */
export type ResamplerKind = 'auto' | 'libsamplerate';

/**
 * Streaming, stateful sample-rate converter for 16-bit mono PCM.
 *
 * Exactly 2x up (8 kHz telephone audio for a 16 kHz recogniser, the common
 * case) is the JS half-band filter of `Upsampler2x`: no wasm instance per leg
 * (~1.2-1.5 MB each), less CPU. Any other ratio wraps libsamplerate (SRC_SINC_FASTEST) through its `full()` API, which keeps
 * the filter state between chunks, so a call's audio can be converted 20 ms at
 * a time without clicks at chunk boundaries. Equal rates are a pass-through
 * (no wasm instance is created).
 *
 * The sinc filter delays its output by a few ms; while it is priming, the
 * missing output is emitted as leading silence so that the output sample count
 * always tracks `input samples * outRate / inRate` (±1). Downstream word
 * timings are derived from sample counts, so they stay aligned with the input.
 */
export class Resampler {
  private converter: SrcConverter | null;
  private upsampler: Upsampler2x | null;
  private readonly ratio: number;
  private samplesIn = 0;
  private samplesOut = 0;
  private primed = false;
  private destroyed = false;

  private constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    converter: SrcConverter | null,
    upsampler: Upsampler2x | null = null,
  ) {
    this.converter = converter;
    this.upsampler = upsampler;
    this.ratio = outputRate / inputRate;
  }

  /**
   * Loads the wasm converter (async, ~10 ms) unless the rates are equal or the ratio is
   * exactly 2x up (`kind` `libsamplerate` forces the wasm converter there too, for comparisons).
   */
  static async create(inputRate: number, outputRate: number, kind: ResamplerKind = 'auto'): Promise<Resampler> {
    for (const rate of [inputRate, outputRate]) {
      if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`invalid sample rate ${rate}`);
    }
    if (inputRate === outputRate) return new Resampler(inputRate, outputRate, null);
    if (outputRate === 2 * inputRate && kind === 'auto') return new Resampler(inputRate, outputRate, null, new Upsampler2x());
    const converter: SrcConverter = await libsamplerate.create(1, inputRate, outputRate, {
      converterType: libsamplerate.ConverterType.SRC_SINC_FASTEST,
    });
    return new Resampler(inputRate, outputRate, converter);
  }

  /** True when input and output rates are equal and `process` returns its input. */
  get isIdentity(): boolean {
    return this.inputRate === this.outputRate;
  }

  /** Converts one chunk; state carries over to the next call. */
  process(pcm: Int16Array): Int16Array {
    if (this.destroyed) throw new Error('Resampler used after destroy()');
    if (this.upsampler !== null) return this.upsampler.process(pcm);
    if (this.converter === null || pcm.length === 0) return pcm;

    const input = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) input[i] = (pcm[i] ?? 0) / 32768;
    const converted = this.converter.full(input);

    this.samplesIn += pcm.length;
    const expected = Math.floor(this.samplesIn * this.ratio);
    // Leading silence only while the filter primes (see class comment); after
    // that, small rounding differences are left alone to avoid inserting samples mid-signal.
    const pad = this.primed ? 0 : Math.max(0, expected - this.samplesOut - converted.length);
    if (converted.length > 0) this.primed = true;

    const out = new Int16Array(pad + converted.length);
    for (let i = 0; i < converted.length; i++) {
      const v = Math.round((converted[i] ?? 0) * 32768);
      // The sinc filter overshoots on full-scale input; clamp instead of wrapping.
      out[pad + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.samplesOut += out.length;
    return out;
  }

  /** Releases the wasm converter. Safe to call more than once. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.converter?.destroy();
    this.converter = null;
    this.upsampler = null;
  }
}
