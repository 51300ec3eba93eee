/**
 * ITU-T G.722 (sub-band ADPCM, 64 kbit/s mode) decoder.
 *
 * Each byte carries one 6-bit low-band and one 2-bit high-band ADPCM code,
 * i.e. two 16 kHz output samples after the receive QMF. The arithmetic is the
 * fixed-point algorithm of G.722 (blocks INVQAL/INVQBL, LOGSCL, SCALEL,
 * RECONS, UPPOL1/2, UPZERO, FILTEP/FILTEZ, and the 24-tap QMF), with the same
 * scaling and saturation as spandsp's `g722_decode` (64 kbit/s, 16 kHz
 * output, no ITU test mode), so both produce identical samples: the unit test
 * `test/unit/audio/g722.test.ts` checks that against Debian's libspandsp2.
 *
 * RTP: static payload type 9, and the RTP clock runs at 8000 Hz although the
 * audio is sampled at 16 kHz, an error in the original RFC 1890 kept for
 * compatibility (RFC 3551 §4.5.2). One payload byte = one RTP tick = two
 * output samples.
 *
 * @see
 * - [ITU-T G.722](https://www.itu.int/rec/T-REC-G.722)
 * - [RFC 3551 section 4.5.2](https://datatracker.ietf.org/doc/html/rfc3551#section-4.5.2)
 */
import type { AudioDecoder, CodecSpec } from './Codec.js';

/** Output samples per payload byte (and per RTP tick). */
export const G722_SAMPLES_PER_BYTE = 2;

// Receive QMF coefficients (G.722 Table 11), forward and reversed.
const QMF_FWD = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11] as const;
const QMF_REV = [-11, 53, -156, 362, -805, 3876, 951, -210, 32, 12, -11, 3] as const;
// Inverse quantiser outputs: 2-bit high band, 4-bit (truncated low band), 6-bit low band.
const QM2 = [-7408, -1616, 7408, 1616] as const;
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0] as const;
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
] as const;
// Inverse log table for the scale factor (SCALEL/SCALEH).
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
] as const;
// Log scale factor multipliers (LOGSCL/LOGSCH) and the code → multiplier index maps.
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042] as const;
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0] as const;
const WH = [0, -214, 798] as const;
const RH2 = [2, 1, 2, 1] as const;

/** C `(int16_t)` cast: wrap to 16 bits. */
function i16(x: number): number {
  return (x << 16) >> 16;
}

/** Saturate to int16. */
function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** Saturate to the 15-bit range of the band signals (block 6, LIMIT). */
function sat15(x: number): number {
  return x > 16383 ? 16383 : x < -16384 ? -16384 : x;
}

/** Adaptive predictor state of one sub-band. */
class Band {
  /** Signal estimate (PREDIC). */
  s = 0;
  /** Zero-section output (FILTEZ). */
  sz = 0;
  /** Previous reconstructed signal. */
  r = 0;
  /** Pole coefficients a1, a2. */
  readonly a = new Int32Array(2);
  /** Partial reconstructed signals p(n-1), p(n-2). */
  readonly p = new Int32Array(2);
  /** Quantised differences d(n)..d(n-6). */
  readonly d = new Int32Array(7);
  /** Zero coefficients b1..b6. */
  readonly b = new Int32Array(6);
  /** Log scale factor. */
  nb = 0;
  /** Scale factor. */
  det: number;

  constructor(det: number) {
    this.det = det;
  }

  /** Block 4: reconstruction, pole and zero predictor adaptation (UPPOL1/2, UPZERO), prediction. */
  adapt(dx: number): void {
    const r = sat16(this.s + dx);
    const p = sat16(this.sz + dx);
    const a0 = this.a[0] ?? 0;
    const a1 = this.a[1] ?? 0;
    const p0 = this.p[0] ?? 0;
    const p1 = this.p[1] ?? 0;

    // UPPOL2
    const w1 = sat16(a0 << 2);
    let w32 = ((p ^ p0) & 0x8000) !== 0 ? w1 : -w1;
    if (w32 > 32767) w32 = 32767;
    let ap1 = i16((((p ^ p1) & 0x8000) !== 0 ? -128 : 128) + (w32 >> 7) + ((a1 * 32512) >> 15));
    if (Math.abs(ap1) > 12288) ap1 = ap1 < 0 ? -12288 : 12288;

    // UPPOL1
    let ap0 = sat16((((p ^ p0) & 0x8000) !== 0 ? -192 : 192) + i16((a0 * 32640) >> 15));
    const limit = sat16(15360 - ap1);
    if (Math.abs(ap0) > limit) ap0 = ap0 < 0 ? -limit : limit;

    // FILTEP
    const e1 = i16((ap0 * sat16(r + r)) >> 15);
    const e2 = i16((ap1 * sat16(this.r + this.r)) >> 15);
    const sp = sat16(e1 + e2);
    this.r = r;
    this.a[1] = ap1;
    this.a[0] = ap0;
    this.p[1] = p0;
    this.p[0] = p;

    // UPZERO, DELAYA, FILTEZ
    const step = dx === 0 ? 0 : 128;
    const d = this.d;
    const b = this.b;
    d[0] = dx;
    let sz = 0;
    for (let i = 5; i >= 0; i--) {
      const sign = (((d[i + 1] ?? 0) ^ dx) & 0x8000) !== 0 ? -step : step;
      const bi = sat16(sign + i16(((b[i] ?? 0) * 32640) >> 15));
      b[i] = bi;
      const di = d[i] ?? 0;
      sz += (bi * sat16(di + di)) >> 15;
      d[i + 1] = di;
    }
    this.sz = sat16(sz);
    // PREDIC
    this.s = sat16(sp + this.sz);
  }
}

/**
 * Streaming G.722 decoder state (64 kbit/s, 16 kHz output). Payloads of one
 * stream must be fed in order: the ADPCM predictors carry over.
 */
export class G722State {
  readonly #low = new Band(32);
  readonly #high = new Band(8);
  readonly #x = new Int32Array(12);
  readonly #y = new Int32Array(12);
  #ptr = 0;

  /** Decodes `data` into `out` (2 samples per byte) and returns the samples written. */
  decode(data: Uint8Array, out: Int16Array = new Int16Array(data.length * G722_SAMPLES_PER_BYTE)): Int16Array {
    if (out.length < data.length * G722_SAMPLES_PER_BYTE) {
      throw new RangeError(`G.722 output holds ${out.length} samples, ${data.length * G722_SAMPLES_PER_BYTE} needed`);
    }
    const low = this.#low;
    const high = this.#high;
    const x = this.#x;
    const y = this.#y;
    let o = 0;
    for (let j = 0; j < data.length; j++) {
      const code = data[j] ?? 0;
      const ilow6 = code & 0x3f;
      const ihigh = (code >> 6) & 0x03;

      // Low band: INVQBL with the 6-bit code for the output, RECONS, LIMIT.
      const rlow = sat15(low.s + ((low.det * (QM6[ilow6] ?? 0)) >> 15));
      // INVQAL with the 4-bit code drives the adaptation.
      const ilow4 = ilow6 >> 2;
      const dlow = i16((low.det * (QM4[ilow4] ?? 0)) >> 15);
      // LOGSCL
      let nb = ((low.nb * 127) >> 7) + (WL[RL42[ilow4] ?? 0] ?? 0);
      nb = nb < 0 ? 0 : nb > 18432 ? 18432 : nb;
      low.nb = nb;
      // SCALEL
      low.det = scale(nb, 8);
      low.adapt(dlow);

      // High band: INVQAH, RECONS, LIMIT, LOGSCH, SCALEH.
      const dhigh = i16((high.det * (QM2[ihigh] ?? 0)) >> 15);
      const rhigh = sat15(dhigh + high.s);
      let nbh = ((high.nb * 127) >> 7) + (WH[RH2[ihigh] ?? 0] ?? 0);
      nbh = nbh < 0 ? 0 : nbh > 22528 ? 22528 : nbh;
      high.nb = nbh;
      high.det = scale(nbh, 10);
      high.adapt(dhigh);

      // Receive QMF: two output samples per sub-band pair; >> 11 = DC gain 4096, less 1 for the 15-bit band signals.
      x[this.#ptr] = i16(rlow + rhigh);
      y[this.#ptr] = i16(rlow - rhigh);
      if (++this.#ptr >= 12) this.#ptr = 0;
      out[o++] = i16(circularDot(y, QMF_REV, this.#ptr) >> 11);
      out[o++] = i16(circularDot(x, QMF_FWD, this.#ptr) >> 11);
    }
    return o === out.length ? out : out.subarray(0, o);
  }
}

/** SCALEL/SCALEH: scale factor from the log scale factor. */
function scale(nb: number, shiftBase: number): number {
  const mant = ILB[(nb >> 6) & 31] ?? 0;
  const shift = shiftBase - (nb >> 11);
  return i16((shift < 0 ? mant << -shift : mant >> shift) << 2);
}

/** Σ history[(pos + i) mod 12] · coeffs[i]: the QMF over the circular history. */
function circularDot(history: Int32Array, coeffs: readonly number[], pos: number): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (history[(pos + i) % 12] ?? 0) * (coeffs[i] ?? 0);
  return sum | 0;
}

/** {@link AudioDecoder} for G.722 at 64 kbit/s: 8000 Hz RTP clock, 16 kHz PCM out. */
export class G722Decoder implements AudioDecoder {
  readonly sampleRate = 16000;
  readonly #state = new G722State();

  constructor(readonly spec: CodecSpec) {
    if (spec.name !== 'G722') throw new TypeError(`G722Decoder cannot decode ${spec.name}`);
  }

  decode(payload: Uint8Array): Int16Array {
    return this.#state.decode(payload);
  }
}
