/**
 * L16: uncompressed 16-bit signed linear PCM in network byte order
 * (big-endian), one channel here.
 *
 * @see
 * - [RFC 3551 section 4.5.11](https://datatracker.ietf.org/doc/html/rfc3551#section-4.5.11)
 */
import type { AudioDecoder, CodecSpec } from './Codec.js';

/** Bytes per L16 sample (mono). */
export const L16_BYTES_PER_SAMPLE = 2;

/**
 * Decodes a big-endian L16 payload to host-order samples.
 *
 * @throws RangeError if the payload has an odd number of bytes (a torn sample
 *   means the payload is malformed).
 */
export function decodeL16(payload: Uint8Array): Int16Array {
  const bytes = payload.length;
  if ((bytes & 1) !== 0) {
    throw new RangeError(`L16 payload is ${bytes} bytes, must be an even number of bytes`);
  }
  const out = new Int16Array(bytes >> 1);
  for (let i = 0, j = 0; j < bytes; i++, j += 2) {
    // Sign-extend the 16-bit big-endian value.
    out[i] = (((payload[j] ?? 0) << 24) | ((payload[j + 1] ?? 0) << 16)) >> 16;
  }
  return out;
}

/** Encodes host-order samples to a big-endian L16 payload. */
export function encodeL16(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length * 2)): Uint8Array {
  const needed = pcm.length * L16_BYTES_PER_SAMPLE;
  if (out.length < needed) {
    throw new RangeError(`L16 output buffer holds ${out.length} bytes, ${needed} needed`);
  }
  for (let i = 0, j = 0; i < pcm.length; i++, j += 2) {
    const s = pcm[i] ?? 0;
    out[j] = (s >> 8) & 0xff;
    out[j + 1] = s & 0xff;
  }
  return out;
}

/** {@link AudioDecoder} for L16 mono at the leg's clock rate. Stateless. */
export class L16Decoder implements AudioDecoder {
  readonly sampleRate: number;

  constructor(readonly spec: CodecSpec) {
    if (spec.name !== 'L16') throw new TypeError(`L16Decoder cannot decode ${spec.name}`);
    this.sampleRate = spec.clockRate;
  }

  /** @throws RangeError on an odd byte count. */
  decode(payload: Uint8Array): Int16Array {
    return decodeL16(payload);
  }
}
