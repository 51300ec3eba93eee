/**
 * Tells telephone speech carried at a wideband rate from wideband speech.
 *
 * A 16 kHz leg often carries a call that crossed the PSTN or a G.711 trunk:
 * upsampled, it has nothing above 4 kHz, and a wideband acoustic model reads
 * it badly (pocketsphinx: word error 0.92 against 0.31 with its telephone
 * profile on flite's 8 kHz voice, docs/asr.md#telephone-speech-in-a-wideband-leg).
 * The probe measures the share of the speech's energy above the telephone
 * band (a windowed-sinc high-pass at 4.6 kHz, sharp enough that a telephone channel's own noise up to 4 kHz stays below it) over the first stretch of
 * speech it is given; wideband speech keeps a few percent there (fricatives),
 * telephone speech next to nothing. No I/O; one per stream.
 */

/**
 * Speech the probe needs before it decides. A single short word may carry no
 * fricative at all ("no", "hello": wideband flite voices at -50 dB); a second
 * and a half of speech does (-46 dB or more, against -66 dB or less for the
 * same sentences through G.711: docs/asr.md).
 */
export const DEFAULT_PROBE_MS = 1500;
/** Energy above the cutoff, relative to all of it, below which speech is narrowband: midway between the two. */
export const DEFAULT_NARROWBAND_RATIO_DB = -55;

const TAPS = 127;
const CUTOFF_HZ = 5200;

export type Bandwidth = 'narrowband' | 'wideband';

export interface BandwidthProbeOptions {
  readonly sampleRate: number;
  readonly probeMs?: number;
  readonly narrowbandRatioDb?: number;
}

/** High-pass kernels by rate (one or two rates in practice), computed once. */
const KERNELS = new Map<number, Float64Array>();

function highPass(sampleRate: number): Float64Array {
  let kernel = KERNELS.get(sampleRate);
  if (kernel !== undefined) return kernel;
  const fc = CUTOFF_HZ / sampleRate;
  const mid = (TAPS - 1) / 2;
  kernel = new Float64Array(TAPS);
  for (let n = 0; n < TAPS; n++) {
    const k = n - mid;
    const lowPass = k === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * k) / (Math.PI * k);
    // Blackman: its stopband (-74 dB) keeps a flat telephone band from leaking over the threshold, as Hamming's (-53 dB) did.
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (TAPS - 1));
    // Spectral inversion of a windowed-sinc low-pass.
    kernel[n] = (k === 0 ? 1 : 0) - lowPass * window;
  }
  KERNELS.set(sampleRate, kernel);
  return kernel;
}

export class BandwidthProbe {
  private readonly kernel: Float64Array;
  private readonly history: Float64Array;
  private readonly needSamples: number;
  private readonly ratio: number;
  private seen = 0;
  private total = 0;
  private high = 0;

  constructor(options: BandwidthProbeOptions) {
    if (!(options.sampleRate > 2 * CUTOFF_HZ)) throw new RangeError(`a bandwidth probe needs a rate above ${2 * CUTOFF_HZ} Hz, not ${options.sampleRate}`);
    this.kernel = highPass(options.sampleRate);
    this.history = new Float64Array(TAPS);
    this.needSamples = Math.round(((options.probeMs ?? DEFAULT_PROBE_MS) * options.sampleRate) / 1000);
    this.ratio = Math.pow(10, (options.narrowbandRatioDb ?? DEFAULT_NARROWBAND_RATIO_DB) / 10);
  }

  /** Whether the probe has seen enough speech to say. */
  get ready(): boolean {
    return this.seen >= this.needSamples;
  }

  /** Feeds speech (not silence: the gate's output). */
  add(pcm: Int16Array): void {
    const { kernel, history } = this;
    for (let i = 0; i < pcm.length; i++) {
      const x = pcm[i] as number;
      history.copyWithin(0, 1);
      history[TAPS - 1] = x;
      let y = 0;
      for (let t = 0; t < TAPS; t++) y += (kernel[t] as number) * (history[TAPS - 1 - t] as number);
      this.total += x * x;
      this.high += y * y;
    }
    this.seen += pcm.length;
  }

  /** The verdict on what was fed; silence or too little to tell is wideband (the profile of the leg's rate). */
  get bandwidth(): Bandwidth {
    if (this.total === 0) return 'wideband';
    return this.high / this.total < this.ratio ? 'narrowband' : 'wideband';
  }

  /** Energy above the telephone band relative to all of it, in dB (for logs and tests). */
  get highBandDb(): number {
    return this.total === 0 ? -Infinity : 10 * Math.log10(this.high / this.total);
  }
}
