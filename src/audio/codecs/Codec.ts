/** Audio codecs accepted on an RTP leg. */
export const CODEC_NAMES = ['PCMU', 'PCMA', 'L16', 'G722', 'OPUS'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

/** RTP clock rates in use: 8000 (G.711, G.722, L16), 16000 (L16), 48000 (Opus, RFC 7587). */
export type RtpClockRate = 8000 | 16000 | 48000;

/**
 * What a leg was announced with: codec, RTP clock rate and payload type.
 * PCMU/PCMA/G.722 have static payload types 0/8/9 (RFC 3551 §6); L16 at
 * 8/16 kHz and Opus are dynamic (96-127) and must be stated by the caller.
 *
 * The RTP clock rate is not always the audio rate: G.722 ticks at 8000 while
 * its audio is 16 kHz (RFC 3551 §4.5.2), Opus ticks at 48000 whatever it
 * carries (RFC 7587 §4.1). {@link AudioDecoder.sampleRate} is the audio rate.
 */
export interface CodecSpec {
  readonly name: CodecName;
  readonly clockRate: RtpClockRate;
  readonly payloadType: number;
  /**
   * RFC 4733 telephone-event payload type of the leg's DTMF, when the SDP
   * negotiated one other than the usual 101. Not part of the audio codec
   * itself, but of what the leg was announced with.
   */
  readonly telephoneEventPayloadType?: number;
}

/** Turns RTP payloads into 16-bit linear PCM at `sampleRate`. */
export interface AudioDecoder {
  readonly spec: CodecSpec;
  /** PCM sample rate of the decoded output (8000 or 16000). */
  readonly sampleRate: number;
  /**
   * Decodes one payload. Stateful codecs (G.722, Opus) must see the payloads
   * of one stream in order; stateless ones (G.711, L16) do not care.
   */
  decode(payload: Uint8Array): Int16Array;
  /** Frees native/WASM state, if any. Idempotent. */
  close?(): void;
}
