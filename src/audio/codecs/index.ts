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
 * | G722  | 8000 (audio 16 kHz) | static 9 (default), or dynamic 96-127 |
 * | OPUS  | 48000 (decoded to 16 kHz) | dynamic 96-127, required     |
 *
 * The static L16 payload types 10 and 11 are rejected on purpose: RFC 3551
 * binds them to 44100 Hz (stereo and mono), a rate this gateway does not
 * take, so accepting "PT 11 at 8000 Hz" would contradict the profile. A
 * dynamic mapping for G.711 is allowed because SDP permits it and some PBXs
 * use one; other static types (e.g. 0 for PCMA) are refused as conflicting.
 *
 * @see
 * - [RFC 3551 section 6](https://datatracker.ietf.org/doc/html/rfc3551#section-6)
 * - [RFC 7587 section 7](https://datatracker.ietf.org/doc/html/rfc7587#section-7) (opus/48000/2)
 */
import { CODEC_NAMES, type AudioDecoder, type CodecName, type CodecSpec, type RtpClockRate } from './Codec.js';
import { G711Decoder, encodeAlaw, encodeUlaw } from './g711.js';
import { G722Decoder } from './g722.js';
import { L16Decoder, L16_BYTES_PER_SAMPLE, encodeL16 } from './l16.js';
import { OPUS_CLOCK_RATE, OPUS_OUTPUT_RATE, OpusRtpDecoder, opusPacketTicks } from './opus.js';

export type { AudioDecoder, CodecName, CodecSpec, RtpClockRate } from './Codec.js';
export { CODEC_NAMES } from './Codec.js';

/** First and last dynamic RTP payload type (RFC 3551 §3). */
export const DYNAMIC_PT_MIN = 96;
export const DYNAMIC_PT_MAX = 127;

/** Static payload types from RFC 3551 Table 4, for the codecs that have one here. */
export const STATIC_PAYLOAD_TYPES: Readonly<Partial<Record<CodecName, number>>> = { PCMU: 0, PCMA: 8, G722: 9 };

/** Clock rates each codec is accepted at. */
export const SUPPORTED_CLOCK_RATES: Readonly<Record<CodecName, readonly RtpClockRate[]>> = {
  PCMU: [8000],
  PCMA: [8000],
  L16: [8000, 16000],
  G722: [8000],
  OPUS: [OPUS_CLOCK_RATE],
};

/** The one clock rate of codecs that have only one, used when a request leaves it out. */
function defaultClockRate(name: CodecName): RtpClockRate | undefined {
  const rates = SUPPORTED_CLOCK_RATES[name];
  return rates.length === 1 ? rates[0] : undefined;
}

/** What a control-plane request says about a leg's codec, before validation. */
export interface CodecRequest {
  /** Encoding name, case-insensitive as in SDP (`PCMU`, `pcma`, `L16`). */
  readonly name: string;
  /** RTP clock rate in Hz; codecs with a single rate (all but L16) default to it when undefined. */
  readonly clockRate?: number | undefined;
  /** RTP payload type; PCMU/PCMA/G722 default to their static type when undefined. */
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
  const clockRate = request.clockRate ?? defaultClockRate(name);
  if (clockRate === undefined) {
    return `clock rate is required for ${name}, use ${rates.join(' or ')}`;
  }
  if (!rates.includes(clockRate as RtpClockRate)) {
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
  return { name, clockRate: clockRate as RtpClockRate, payloadType };
}

/** Creates the decoder for a validated spec. */
export function createDecoder(spec: CodecSpec): AudioDecoder {
  switch (spec.name) {
    case 'PCMU':
    case 'PCMA':
      return new G711Decoder(spec);
    case 'L16':
      return new L16Decoder(spec);
    case 'G722':
      return new G722Decoder(spec);
    case 'OPUS':
      return new OpusRtpDecoder(spec);
  }
}

/**
 * Sample rate of the PCM a leg of this codec decodes to: the RTP clock rate
 * except for G.722 (8000 Hz clock, 16 kHz audio) and Opus (48 kHz clock,
 * decoded to 16 kHz). What the leg's recogniser is opened with.
 */
export function pcmSampleRate(spec: CodecSpec): 8000 | 16000 {
  switch (spec.name) {
    case 'G722':
      return 16000;
    case 'OPUS':
      return OPUS_OUTPUT_RATE;
    default:
      return spec.clockRate === 16000 ? 16000 : 8000;
  }
}

/** Converts a duration in RTP ticks of `spec` to PCM samples at {@link pcmSampleRate}. */
export function ticksToSamples(spec: CodecSpec, ticks: number): number {
  return Math.round((ticks * pcmSampleRate(spec)) / spec.clockRate);
}

/** Turns 16-bit linear PCM (at the spec's clock rate) into RTP payload bytes. */
export interface AudioEncoder {
  readonly spec: CodecSpec;
  /** Payload bytes produced per PCM sample. */
  readonly bytesPerSample: number;
  /** Encodes into `out` (or a new array) and returns the bytes written as a view. */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array;
}

/**
 * Creates the encoder for a validated spec (used by the test sender).
 *
 * @throws TypeError for G.722 and Opus, which the gateway only receives (tests
 *   send them with ffmpeg).
 */
export function createEncoder(spec: CodecSpec): AudioEncoder {
  switch (spec.name) {
    case 'G722':
    case 'OPUS':
      throw new TypeError(`no ${spec.name} encoder: the gateway only decodes it`);
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
 * Duration in RTP timestamp ticks of a payload of `byteLength` bytes, or -1
 * if no valid payload of this codec has that length (an odd L16 payload). G.711
 * and L16 tick once per sample, G.722 once per byte (two 16 kHz samples).
 * Opus durations depend on the payload's TOC byte: use {@link payloadTicks}.
 */
export function payloadSampleCount(spec: CodecSpec, byteLength: number): number {
  switch (spec.name) {
    case 'PCMU':
    case 'PCMA':
    case 'G722':
      return byteLength;
    case 'L16':
      return (byteLength & 1) === 0 ? byteLength / L16_BYTES_PER_SAMPLE : -1;
    case 'OPUS':
      return -1;
  }
}

/** Duration of a payload in RTP ticks (-1 if it is not a valid payload of the codec). */
export function payloadTicks(spec: CodecSpec, payload: Uint8Array): number {
  return spec.name === 'OPUS' ? opusPacketTicks(payload) : payloadSampleCount(spec, payload.byteLength);
}

export { G711Decoder, ULAW_SILENCE, ALAW_SILENCE, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711.js';
export { L16Decoder, decodeL16, encodeL16 } from './l16.js';
export { G722Decoder, G722State } from './g722.js';
export { OpusRtpDecoder, opusPacketTicks } from './opus.js';
