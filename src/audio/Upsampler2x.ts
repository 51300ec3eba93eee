/**
 * Streaming 2x upsampler for 16-bit mono PCM (8 kHz telephone audio to a 16 kHz
 * recogniser): a linear-phase half-band FIR in polyphase form, in plain JS.
 *
 * Every input sample gives two output samples: itself (the even phase of a
 * half-band filter is a single tap) and the value halfway to the next one,
 * `sum c[k] * (x[m-k] + x[m+1+k])` over TAPS_PER_SIDE taps (a Kaiser-windowed
 * sinc, cut off at the input's Nyquist frequency). The output is exactly twice
 * the input's length, delayed by TAPS_PER_SIDE input samples (3 ms at 8 kHz),
 * whose first samples are the filter priming from silence.
 *
 * Why not libsamplerate: its wasm build costs ~1.2-1.5 MB of memory per
 * instance (one per 8 kHz leg) and ~0.003 CPU s per audio second; this is a
 * few hundred bytes of state and about a third of that CPU, with a passband
 * flat to ~3.5 kHz and images above 4.5 kHz down ~90 dB (docs/asr.md#memory).
 */

/** Taps on each side of the interpolated point: 4 x 24 - 1 = 95-tap half-band filter. */
export const TAPS_PER_SIDE = 24;
/** Kaiser window shape: ~90 dB stop-band. */
const KAISER_BETA = 8.96;

/** Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/**
 * The odd phase's coefficients: c[k] weights x[m-k] and x[m+1+k], i.e. the
 * half-band low-pass at offsets ±(2k+1) of the output rate, scaled so that
 * the interpolated samples have unit gain at DC.
 */
function oddPhase(tapsPerSide: number, beta: number): Float64Array {
  const c = new Float64Array(tapsPerSide);
  const half = 2 * tapsPerSide; // window half-length in output samples
  const norm = besselI0(beta);
  let sum = 0;
  for (let k = 0; k < tapsPerSide; k++) {
    const n = 2 * k + 1;
    const sinc = Math.sin((Math.PI * n) / 2) / ((Math.PI * n) / 2);
    const window = besselI0(beta * Math.sqrt(1 - (n / half) ** 2)) / norm;
    c[k] = sinc * window;
    sum += 2 * (c[k] as number);
  }
  for (let k = 0; k < tapsPerSide; k++) c[k] = (c[k] as number) / sum;
  return c;
}

const COEFFICIENTS = oddPhase(TAPS_PER_SIDE, KAISER_BETA);

export class Upsampler2x {
  /** The last 2 x TAPS_PER_SIDE input samples (zeros before the first). */
  private readonly history = new Float64Array(2 * TAPS_PER_SIDE);
  private work = new Float64Array(0);

  /** Converts one chunk; the state carries over to the next call. Output length is exactly twice the input's. */
  process(pcm: Int16Array): Int16Array {
    const n = pcm.length;
    const h = this.history.length;
    const out = new Int16Array(2 * n);
    if (n === 0) return out;
    if (this.work.length < h + n) this.work = new Float64Array(h + n);
    const x = this.work;
    x.set(this.history);
    for (let i = 0; i < n; i++) x[h + i] = pcm[i] as number;
    const taps = TAPS_PER_SIDE;
    const c = COEFFICIENTS;
    // Input sample j = h + i completes the window around m = j - taps: x[m-taps+1] .. x[m+taps].
    for (let i = 0; i < n; i++) {
      const m = h + i - taps;
      let odd = 0;
      for (let k = 0; k < taps; k++) odd += (c[k] as number) * ((x[m - k] as number) + (x[m + 1 + k] as number));
      out[2 * i] = x[m] as number;
      const v = Math.round(odd);
      // Ringing near full scale can overshoot: clamp instead of wrapping.
      out[2 * i + 1] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.history.set(x.subarray(n, n + h));
    return out;
  }
}
