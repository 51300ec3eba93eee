/**
 * Opus over RTP (RFC 7587), decoded with the `opus-decoder` package: libopus
 * compiled to WebAssembly and shipped inside the npm package (nothing is
 * downloaded at install or run time).
 *
 * The RTP clock is always 48000 Hz (RFC 7587 §4.1) whatever the encoder's
 * internal bandwidth; libopus decodes straight to 16 kHz mono (its decoder
 * can output 8/12/16/24/48 kHz natively), which is what the recogniser wants,
 * so no separate resampling step.
 *
 * The WASM instance is created asynchronously. Packets that arrive before it
 * is ready (the first milliseconds of a leg) are decoded as silence of their
 * duration, counted in {@link OpusRtpDecoder.notReadyPackets}; the module is
 * compiled once per process and warmed at import, so in practice a leg's
 * decoder is ready before its first packet.
 *
 * @see
 * - [RFC 7587](https://datatracker.ietf.org/doc/html/rfc7587) (RTP payload format for Opus)
 * - [RFC 6716 section 3](https://datatracker.ietf.org/doc/html/rfc6716#section-3) (TOC byte, frame packing, R1-R7)
 */
import { OpusDecoder } from 'opus-decoder';
import type { AudioDecoder, CodecSpec } from './Codec.js';

/** RTP clock of Opus. */
export const OPUS_CLOCK_RATE = 48000;
/** PCM rate the decoder produces. */
export const OPUS_OUTPUT_RATE = 16000;
/** Longest Opus packet duration, 120 ms (RFC 6716 §3.2.5), in 48 kHz ticks. */
const MAX_PACKET_TICKS = 5760;
/** Largest payload accepted: the WASM decoder's input buffer (0.12 s at 256 kbit/s, mono). */
export const OPUS_MAX_PAYLOAD_BYTES = 3840;

/** Frame duration in 48 kHz ticks per TOC configuration (RFC 6716 Table 2). */
function frameTicks(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3] ?? 0; // SILK-only: 10, 20, 40, 60 ms
  if (config < 16) return (config & 1) === 0 ? 480 : 960; // hybrid: 10, 20 ms
  return [120, 240, 480, 960][config & 3] ?? 0; // CELT-only: 2.5, 5, 10, 20 ms
}

/** Largest Opus frame, in bytes (RFC 6716 §3.4 R2). */
const MAX_FRAME_BYTES = 1275;

/** Reads a frame length (1 or 2 bytes, §3.2.1) at `at`: [length, bytes used], or undefined if truncated. */
function frameLength(p: Uint8Array, at: number): [number, number] | undefined {
  const first = p[at];
  if (first === undefined) return undefined;
  if (first < 252) return [first, 1];
  const second = p[at + 1];
  return second === undefined ? undefined : [second * 4 + first, 2];
}

/**
 * Duration of an Opus packet in RTP ticks (48 kHz), or -1 if the packet
 * breaks one of the rules R1-R7 of RFC 6716 §3.4 (empty, frame over 1275
 * bytes, odd code-1 split, code-2/3 lengths or padding past the end, code-3
 * count 0 or over 120 ms) or is too large for the decoder. The whole packet
 * is checked here, so libopus only ever sees well-formed packets (it
 * logs every packet it rejects on stderr, which no remote peer should be
 * able to make the gateway do).
 */
export function opusPacketTicks(payload: Uint8Array): number {
  const n = payload.length;
  const toc = payload[0];
  if (toc === undefined || n > OPUS_MAX_PAYLOAD_BYTES) return -1; // R1
  const perFrame = frameTicks(toc >> 3);
  switch (toc & 3) {
    case 0: // one frame
      return n - 1 <= MAX_FRAME_BYTES ? perFrame : -1; // R2
    case 1: // two frames of equal size
      return (n - 1) % 2 === 0 && (n - 1) / 2 <= MAX_FRAME_BYTES ? 2 * perFrame : -1; // R3
    case 2: {
      // two frames, the first's length coded
      const len = frameLength(payload, 1);
      if (len === undefined) return -1;
      const second = n - 1 - len[1] - len[0];
      return len[0] <= MAX_FRAME_BYTES && second >= 0 && second <= MAX_FRAME_BYTES ? 2 * perFrame : -1; // R4
    }
    default: {
      // code 3: M frames, CBR or VBR, optional padding (R5-R7)
      const countByte = payload[1];
      if (countByte === undefined) return -1;
      const frames = countByte & 0x3f;
      if (frames === 0 || frames * perFrame > MAX_PACKET_TICKS) return -1;
      let at = 2;
      let padding = 0;
      if ((countByte & 0x40) !== 0) {
        for (;;) {
          const b = payload[at++];
          if (b === undefined) return -1;
          padding += b === 255 ? 254 : b;
          if (b !== 255) break;
        }
      }
      let remaining = n - at - padding;
      if (remaining < 0) return -1;
      if ((countByte & 0x80) !== 0) {
        // VBR: M-1 coded lengths, the last frame takes the rest.
        for (let i = 0; i < frames - 1; i++) {
          const len = frameLength(payload, at);
          if (len === undefined) return -1;
          at += len[1];
          remaining -= len[1] + len[0];
          if (len[0] > MAX_FRAME_BYTES || remaining < 0) return -1;
        }
        return remaining <= MAX_FRAME_BYTES ? frames * perFrame : -1;
      }
      return remaining % frames === 0 && remaining / frames <= MAX_FRAME_BYTES ? frames * perFrame : -1;
    }
  }
}

// Compile the WASM once at import so each leg's instance is quick to create.
const warmUp = new OpusDecoder({ channels: 1, sampleRate: OPUS_OUTPUT_RATE });
void warmUp.ready.then(
  () => warmUp.free(),
  () => undefined,
);

/** {@link AudioDecoder} for Opus: 48 kHz RTP clock, 16 kHz mono PCM out. */
export class OpusRtpDecoder implements AudioDecoder {
  readonly sampleRate = OPUS_OUTPUT_RATE;
  /** Packets decoded as silence because the WASM instance was not ready yet. */
  notReadyPackets = 0;
  /** Packets libopus refused (decoded as silence). */
  errorPackets = 0;
  readonly #decoder: OpusDecoder<typeof OPUS_OUTPUT_RATE>;
  #ready = false;
  #closed = false;
  /** Resolves once the decoder can decode (never rejects). */
  readonly ready: Promise<void>;

  constructor(readonly spec: CodecSpec) {
    if (spec.name !== 'OPUS') throw new TypeError(`OpusRtpDecoder cannot decode ${spec.name}`);
    this.#decoder = new OpusDecoder({ channels: 1, sampleRate: OPUS_OUTPUT_RATE });
    this.ready = this.#decoder.ready.then(
      () => {
        this.#ready = true;
        if (this.#closed) this.#decoder.free();
      },
      () => undefined,
    );
  }

  /** Decodes one Opus packet; silence of its duration if it cannot be decoded. */
  decode(payload: Uint8Array): Int16Array {
    const ticks = opusPacketTicks(payload);
    if (ticks < 0) throw new RangeError(`invalid Opus packet of ${payload.length} bytes`);
    const samples = (ticks * OPUS_OUTPUT_RATE) / OPUS_CLOCK_RATE;
    if (!this.#ready || this.#closed) {
      this.notReadyPackets++;
      return new Int16Array(samples);
    }
    const decoded = this.#decoder.decodeFrame(payload);
    const channel = decoded.channelData[0];
    if (decoded.errors.length > 0 || channel === undefined) {
      this.errorPackets++;
      return new Int16Array(samples);
    }
    const out = new Int16Array(decoded.samplesDecoded);
    for (let i = 0; i < out.length; i++) {
      const v = Math.round((channel[i] ?? 0) * 32768);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ready) this.#decoder.free();
  }
}
