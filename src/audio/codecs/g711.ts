/**
 * ITU-T G.711 companding: μ-law (PCMU) and A-law (PCMA).
 *
 * Decoding goes through two 256-entry lookup tables built once at module load
 * from the classic Sun Microsystems reference formulas (`g711.c`, the same
 * code the ITU-T G.191 software tools are checked against). Encoding uses the
 * same reference algorithm directly (segment search + quantisation; negative
 * μ-law inputs take G.191's one's-complement magnitude); it is only needed on
 * the sending side (demo, load test).
 *
 * Linear samples are 16-bit two's complement. μ-law carries 14 bits of
 * magnitude and A-law 13, so decoded values are scaled to the 16-bit range
 * (×4 and ×8 respectively), exactly as `g711.c` does.
 *
 * @see
 * - [ITU-T G.711](https://www.itu.int/rec/T-REC-G.711)
 * - [RFC 3551 section 4.5.14](https://datatracker.ietf.org/doc/html/rfc3551#section-4.5.14)
 *   (PCMA and PCMU: static payload types 8 and 0, 8000 Hz)
 */
import type { AudioDecoder, CodecSpec } from './Codec.js';

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
/** μ-law bias added before segment search (0x84 = 132). */
const ULAW_BIAS = 0x84;
/** Largest μ-law magnitude (14-bit domain) before clipping. */
const ULAW_CLIP = 8159;

/** Segment end points of A-law in the 13-bit domain. */
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
/** Segment end points of μ-law in the 14-bit domain. */
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;

/** The μ-law code for digital silence (positive zero). */
export const ULAW_SILENCE = 0xff;
/** The A-law code closest to silence (+8 after decoding). */
export const ALAW_SILENCE = 0xd5;

function segmentOf(value: number, table: readonly number[]): number {
  for (let i = 0; i < table.length; i++) {
    if (value <= (table[i] ?? 0)) return i;
  }
  return table.length;
}

function ulawToLinearReference(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & QUANT_MASK) << 3) + ULAW_BIAS;
  t <<= (u & SEG_MASK) >> SEG_SHIFT;
  return (u & SIGN_BIT) !== 0 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function alawToLinearReference(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  let t = (a & QUANT_MASK) << 4;
  const seg = (a & SEG_MASK) >> SEG_SHIFT;
  switch (seg) {
    case 0:
      t += 8;
      break;
    case 1:
      t += 0x108;
      break;
    default:
      t += 0x108;
      t <<= seg - 1;
  }
  return (a & SIGN_BIT) !== 0 ? t : -t;
}

function buildTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

/** μ-law code → 16-bit linear sample. Built once; do not mutate. */
export const ULAW_DECODE_TABLE: Readonly<Int16Array> = buildTable(ulawToLinearReference);
/** A-law code → 16-bit linear sample. Built once; do not mutate. */
export const ALAW_DECODE_TABLE: Readonly<Int16Array> = buildTable(alawToLinearReference);

/** Decodes one μ-law byte to a 16-bit linear sample. */
export function ulawToLinear(code: number): number {
  return ULAW_DECODE_TABLE[code & 0xff] ?? 0;
}

/** Decodes one A-law byte to a 16-bit linear sample. */
export function alawToLinear(code: number): number {
  return ALAW_DECODE_TABLE[code & 0xff] ?? 0;
}

/**
 * Encodes one 16-bit linear sample to μ-law (Sun `linear2ulaw`, with the
 * negative-magnitude rule of ITU-T G.191). Values outside the int16 range are
 * clamped first.
 */
export function linearToUlaw(sample: number): number {
  const x = clampInt16(sample);
  let pcm: number;
  let mask: number;
  if (x < 0) {
    // One's complement magnitude as in G.191 `ulaw_compress` (Sun's `-(x >> 2)`
    // is one 14-bit step off for some negative inputs): symmetric around -1/2.
    pcm = ~x >> 2;
    mask = 0x7f;
  } else {
    pcm = x >> 2;
    mask = 0xff;
  }
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS >> 2;
  const seg = segmentOf(pcm, SEG_UEND);
  if (seg >= 8) return (0x7f ^ mask) & 0xff;
  return (((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask) & 0xff;
}

/**
 * Encodes one 16-bit linear sample to A-law (Sun `linear2alaw`). Values
 * outside the int16 range are clamped first.
 */
export function linearToAlaw(sample: number): number {
  let pcm = clampInt16(sample) >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segmentOf(pcm, SEG_AEND);
  if (seg >= 8) return (0x7f ^ mask) & 0xff;
  let aval = seg << SEG_SHIFT;
  aval |= seg < 2 ? (pcm >> 1) & QUANT_MASK : (pcm >> seg) & QUANT_MASK;
  return (aval ^ mask) & 0xff;
}

function clampInt16(sample: number): number {
  const s = Math.round(sample);
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

function decodeWith(table: Readonly<Int16Array>, payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i] ?? 0] ?? 0;
  return out;
}

/** Decodes a whole μ-law payload (one sample per byte). */
export function decodeUlaw(payload: Uint8Array): Int16Array {
  return decodeWith(ULAW_DECODE_TABLE, payload);
}

/** Decodes a whole A-law payload (one sample per byte). */
export function decodeAlaw(payload: Uint8Array): Int16Array {
  return decodeWith(ALAW_DECODE_TABLE, payload);
}

/** Encodes 16-bit PCM to μ-law, one byte per sample. */
export function encodeUlaw(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  if (out.length < pcm.length) {
    throw new RangeError(`μ-law output buffer holds ${out.length} bytes, ${pcm.length} needed`);
  }
  for (let i = 0; i < pcm.length; i++) out[i] = linearToUlaw(pcm[i] ?? 0);
  return out;
}

/** Encodes 16-bit PCM to A-law, one byte per sample. */
export function encodeAlaw(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  if (out.length < pcm.length) {
    throw new RangeError(`A-law output buffer holds ${out.length} bytes, ${pcm.length} needed`);
  }
  for (let i = 0; i < pcm.length; i++) out[i] = linearToAlaw(pcm[i] ?? 0);
  return out;
}

/**
 * {@link AudioDecoder} for PCMU and PCMA. Stateless: every byte is one
 * sample, every payload length is valid.
 */
export class G711Decoder implements AudioDecoder {
  readonly sampleRate: number;
  readonly #table: Readonly<Int16Array>;

  constructor(readonly spec: CodecSpec) {
    if (spec.name !== 'PCMU' && spec.name !== 'PCMA') {
      throw new TypeError(`G711Decoder cannot decode ${spec.name}`);
    }
    this.sampleRate = spec.clockRate;
    this.#table = spec.name === 'PCMU' ? ULAW_DECODE_TABLE : ALAW_DECODE_TABLE;
  }

  decode(payload: Uint8Array): Int16Array {
    return decodeWith(this.#table, payload);
  }
}
