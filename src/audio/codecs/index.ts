/**
 * Codec registry: validation of what a leg is announced with, and decoder /
 * encoder factories.
 *
 * Accepted combinations (RFC 3551 §6, Table 4):
 *
 * | codec | clock rate     | payload type                         |
 * |-------|----------------|--------------------------------------|
 * | PCMU  | 8000           | static 0 (default), or dynamic 96-127 |
 * | PCMA  | 8000           | static 8 (default), or dynamic 96-127 |
 * | L16   | 8000 or 16000  | dynamic 96-127, required              |
 *
 * The static L16 payload types 10 and 11 are rejected on purpose: RFC 3551
 * binds them to 44100 Hz (stereo and mono), a rate this gateway does not
 * take, so accepting "PT 11 at 8000 Hz" would contradict the profile. A
 * dynamic mapping for G.711 is allowed because SDP permits it and some PBXs
 * use one; other static types (e.g. 0 for PCMA) are refused as conflicting.
 *
 * @see
 * - [RFC 3551 section 6](https://datatracker.ietf.org/doc/html/rfc3551#section-6)
 */
import { CODEC_NAMES, type AudioDecoder, type CodecName, type CodecSpec } from './Codec.js';
import { G711Decoder, encodeAlaw, encodeUlaw } from './g711.js';
import { L16Decoder, L16_BYTES_PER_SAMPLE, encodeL16 } from './l16.js';

export type { AudioDecoder, CodecName, CodecSpec } from './Codec.js';
export { CODEC_NAMES } from './Codec.js';

/** First and last dynamic RTP payload type (RFC 3551 §3). */
export const DYNAMIC_PT_MIN = 96;
export const DYNAMIC_PT_MAX = 127;

/** Static payload types from RFC 3551 Table 4, for the codecs that have one here. */
export const STATIC_PAYLOAD_TYPES: Readonly<Partial<Record<CodecName, number>>> = { PCMU: 0, PCMA: 8 };

/** Clock rates each codec is accepted at. */
export const SUPPORTED_CLOCK_RATES: Readonly<Record<CodecName, readonly (8000 | 16000)[]>> = {
  PCMU: [8000],
  PCMA: [8000],
  L16: [8000, 16000],
};

/** What a control-plane request says about a leg's codec, before validation. */
export interface CodecRequest {
  /** Encoding name, case-insensitive as in SDP (`PCMU`, `pcma`, `L16`). */
  readonly name: string;
  /** RTP clock rate in Hz; PCMU/PCMA default to 8000 when undefined. */
  readonly clockRate?: number | undefined;
  /** RTP payload type; PCMU/PCMA default to their static type when undefined. */
  readonly payloadType?: number | undefined;
}

function isCodecName(name: string): name is CodecName {
  return (CODEC_NAMES as readonly string[]).includes(name);
}

function isDynamic(pt: number): boolean {
  return pt >= DYNAMIC_PT_MIN && pt <= DYNAMIC_PT_MAX;
}

/**
 * Checks a leg's codec announcement.
 *
 * @returns the normalised {@link CodecSpec}, or a one-line problem for the
 *   client. Problems about the payload type start with `payload type`, those
 *   about the clock rate with `clock rate`, those about the name with `codec`,
 *   so a caller can name the offending field.
 */
export function validateCodec(request: CodecRequest): CodecSpec | string {
  const name = request.name.toUpperCase();
  if (!isCodecName(name)) {
    return `codec '${request.name.slice(0, 20)}' is not supported, use one of ${CODEC_NAMES.join(', ')}`;
  }

  const staticPt = STATIC_PAYLOAD_TYPES[name];
  const rates = SUPPORTED_CLOCK_RATES[name];
  const clockRate = request.clockRate ?? (staticPt !== undefined ? 8000 : undefined);
  if (clockRate === undefined) {
    return `clock rate is required for ${name}, use ${rates.join(' or ')}`;
  }
  if (!rates.includes(clockRate as 8000 | 16000)) {
    return `clock rate ${clockRate} is not supported for ${name}, use ${rates.join(' or ')}`;
  }

  const payloadType = request.payloadType ?? staticPt;
  if (payloadType === undefined) {
    return `payload type is required for ${name}: a dynamic type ${DYNAMIC_PT_MIN}-${DYNAMIC_PT_MAX}`;
  }
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
    return `payload type ${payloadType} is out of range, RTP payload types are 0-127`;
  }
  if (payloadType !== staticPt && !isDynamic(payloadType)) {
    return staticPt !== undefined
      ? `payload type ${payloadType} is not valid for ${name}, use its static ${staticPt} or a dynamic ${DYNAMIC_PT_MIN}-${DYNAMIC_PT_MAX}`
      : `payload type ${payloadType} is not valid for ${name}, use a dynamic ${DYNAMIC_PT_MIN}-${DYNAMIC_PT_MAX}`;
  }
  return { name, clockRate: clockRate as 8000 | 16000, payloadType };
}

/** Creates the decoder for a validated spec. */
export function createDecoder(spec: CodecSpec): AudioDecoder {
  switch (spec.name) {
    case 'PCMU':
    case 'PCMA':
      return new G711Decoder(spec);
    case 'L16':
      return new L16Decoder(spec);
  }
}

/** Turns 16-bit linear PCM (at the spec's clock rate) into RTP payload bytes. */
export interface AudioEncoder {
  readonly spec: CodecSpec;
  /** Payload bytes produced per PCM sample. */
  readonly bytesPerSample: number;
  /** Encodes into `out` (or a new array) and returns the bytes written as a view. */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array;
}

/** Creates the encoder for a validated spec (used by the test sender). */
export function createEncoder(spec: CodecSpec): AudioEncoder {
  switch (spec.name) {
    case 'PCMU':
      return { spec, bytesPerSample: 1, encode: (pcm, out) => encodeUlaw(pcm, out).subarray(0, pcm.length) };
    case 'PCMA':
      return { spec, bytesPerSample: 1, encode: (pcm, out) => encodeAlaw(pcm, out).subarray(0, pcm.length) };
    case 'L16':
      return {
        spec,
        bytesPerSample: L16_BYTES_PER_SAMPLE,
        encode: (pcm, out) => encodeL16(pcm, out).subarray(0, pcm.length * L16_BYTES_PER_SAMPLE),
      };
  }
}

/**
 * Samples (= RTP timestamp ticks, all codecs here tick once per sample) carried
 * by a payload of `byteLength` bytes, or -1 if no valid payload of this codec
 * has that length (an odd L16 payload).
 */
export function payloadSampleCount(spec: CodecSpec, byteLength: number): number {
  switch (spec.name) {
    case 'PCMU':
    case 'PCMA':
      return byteLength;
    case 'L16':
      return (byteLength & 1) === 0 ? byteLength / L16_BYTES_PER_SAMPLE : -1;
  }
}

export { G711Decoder, ULAW_SILENCE, ALAW_SILENCE, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711.js';
export { L16Decoder, decodeL16, encodeL16 } from './l16.js';
