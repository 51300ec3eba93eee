/**
 * Telephone profile for wideband acoustic models: fills the empty band above
 * the narrowband Nyquist frequency with low-level white noise.
 *
 * 8 kHz telephone audio upsampled to 16 kHz has nothing above 4 kHz. The
 * 16 kHz pocketsphinx model's upper mel filters (up to 6.8 kHz) then see
 * log(≈0), which dominates the cepstrum and wrecks recognition ("hello i
 * have been waiting for an hour" came out as "ha what are what"). A noise
 * floor there, as a real wideband microphone always has, brings the features
 * back near what the model was trained on. Measured in docs/asr.md.
 */

/** Default fill level: RMS of the added noise relative to full scale. */
export const DEFAULT_HIGH_BAND_FILL_DBFS = -48;

/** Noise loop length; one second is far beyond anything a recogniser could learn. */
const LOOP_SAMPLES = 16000;
const TAPS = 63;

export interface HighBandFillOptions {
  /** Rate of the PCM processed (the recogniser's rate). */
  readonly sampleRate: number;
  /** Rate the audio was band-limited to (its original rate): noise goes above half of it. */
  readonly sourceSampleRate: number;
  /** Noise RMS in dBFS; default {@link DEFAULT_HIGH_BAND_FILL_DBFS}. */
  readonly levelDbfs?: number;
}

/** Noise loops by cutoff and level (a handful: one per configured level and input rate), computed once (a million multiply-adds) and shared read-only by every stream. */
const NOISE_LOOPS = new Map<string, Int16Array>();

/** Adds band-limited noise in place; one per stream (it keeps a loop position). */
export class HighBandFill {
  private readonly noise: Int16Array;
  private position = 0;

  constructor(options: HighBandFillOptions) {
    const { sampleRate, sourceSampleRate } = options;
    if (!(sourceSampleRate > 0 && sourceSampleRate < sampleRate)) {
      throw new RangeError(`high-band fill needs a source rate below the stream rate (got ${sourceSampleRate} Hz into ${sampleRate} Hz)`);
    }
    const cutoff = sourceSampleRate / 2 / sampleRate;
    const level = options.levelDbfs ?? DEFAULT_HIGH_BAND_FILL_DBFS;
    const key = `${cutoff}/${level}`;
    let noise = NOISE_LOOPS.get(key);
    if (noise === undefined) {
      noise = highPassNoise(cutoff, level);
      NOISE_LOOPS.set(key, noise);
    }
    this.noise = noise;
  }

  /** Adds the noise to `pcm` (saturating) and returns it. */
  process(pcm: Int16Array): Int16Array {
    const noise = this.noise;
    let p = this.position;
    for (let i = 0; i < pcm.length; i++) {
      const v = (pcm[i] as number) + (noise[p] as number);
      pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      if (++p === noise.length) p = 0;
    }
    this.position = p;
    return pcm;
  }
}

/**
 * Deterministic white noise through a windowed-sinc high-pass at `cutoff`
 * (fraction of the sample rate), scaled to `levelDbfs` RMS.
 */
function highPassNoise(cutoff: number, levelDbfs: number): Int16Array {
  const half = (TAPS - 1) / 2;
  const taps = new Float64Array(TAPS);
  for (let n = 0; n < TAPS; n++) {
    const k = n - half;
    const lowPass = k === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * k) / (Math.PI * k);
    const window = 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (TAPS - 1));
    // Spectral inversion of the low-pass gives the high-pass.
    taps[n] = (k === 0 ? 1 : 0) - lowPass * window;
  }
  let seed = 0x5eed1234;
  const random = (): number => {
    // mulberry32: fixed seed, so every stream and every test hears the same noise.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const white = new Float64Array(LOOP_SAMPLES + TAPS);
  for (let i = 0; i < white.length; i++) white[i] = random();
  const filtered = new Float64Array(LOOP_SAMPLES);
  let power = 0;
  for (let i = 0; i < LOOP_SAMPLES; i++) {
    let acc = 0;
    for (let n = 0; n < TAPS; n++) acc += (taps[n] as number) * (white[i + n] as number);
    filtered[i] = acc;
    power += acc * acc;
  }
  const rms = Math.sqrt(power / LOOP_SAMPLES);
  const scale = (32768 * 10 ** (levelDbfs / 20)) / rms;
  const out = new Int16Array(LOOP_SAMPLES);
  for (let i = 0; i < LOOP_SAMPLES; i++) out[i] = Math.round((filtered[i] as number) * scale);
  return out;
}
