/** Audio codecs accepted on an RTP leg. */
export const CODEC_NAMES = ['PCMU', 'PCMA', 'L16'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

/**
 * What a leg was announced with: codec, RTP clock rate and payload type.
 * PCMU/PCMA have static payload types 0/8 (RFC 3551 §6); L16 at 8/16 kHz is
 * dynamic (96-127) and must be stated by the caller.
 */
export interface CodecSpec {
  readonly name: CodecName;
  readonly clockRate: 8000 | 16000;
  readonly payloadType: number;
}

/** Turns RTP payloads into 16-bit linear PCM at `sampleRate`. Stateless for G.711/L16. */
export interface AudioDecoder {
  readonly spec: CodecSpec;
  /** PCM sample rate of the decoded output. */
  readonly sampleRate: number;
  /** Samples of decoded audio per RTP timestamp tick (1 for every codec here). */
  decode(payload: Uint8Array): Int16Array;
}
