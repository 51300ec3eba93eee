/**
 * AudioSocket framing: every message is a 3-byte header (1 byte kind, 2 bytes
 * big-endian payload length) followed by the payload.
 *
 * Kinds used here:
 *
 * | kind   | payload                                                         |
 * |--------|-----------------------------------------------------------------|
 * | `0x00` | hangup, no payload (closing the socket means the same)          |
 * | `0x01` | the stream's UUID, 16 bytes binary; the first frame             |
 * | `0x03` | one ASCII DTMF digit                                             |
 * | `0x10` | signed linear 16-bit little-endian mono PCM, 8 kHz              |
 * | `0x12` | the same at 16 kHz (Asterisk 20.x+; other `0x11`-`0x18` rates are refused: recognition takes 8 or 16 kHz) |
 * | `0xff` | error; optional 1-byte code (`0x01` hung up, `0x02` frame forwarding, `0x04` memory) |
 *
 * @see
 * - [Asterisk AudioSocket protocol](https://docs.asterisk.org/Configuration/Channel-Drivers/AudioSocket/)
 * - [Reference implementation (Go)](https://github.com/CyCoreSystems/audiosocket)
 */

export const KIND_HANGUP = 0x00;
export const KIND_UUID = 0x01;
export const KIND_DTMF = 0x03;
export const KIND_SLIN_8K = 0x10;
export const KIND_SLIN_16K = 0x12;
export const KIND_ERROR = 0xff;

/** First and last kind of the signed-linear family (0x10 8 kHz … 0x18 192 kHz). */
export const KIND_SLIN_FIRST = 0x10;
export const KIND_SLIN_LAST = 0x18;

/** Sample rate of each signed-linear kind this gateway takes. */
export const SLIN_RATES: Readonly<Record<number, 8000 | 16000>> = { [KIND_SLIN_8K]: 8000, [KIND_SLIN_16K]: 16000 };

/** Asterisk's error code for "the call has hung up". */
export const ERROR_CODE_HANGUP = 0x01;

export const HEADER_BYTES = 3;
export const UUID_BYTES = 16;

/**
 * Largest payload accepted. Asterisk sends 20 ms frames (320 bytes at 8 kHz,
 * 640 at 16 kHz); 4 KiB leaves room for long packetisation (128 ms at
 * 16 kHz) and keeps a connection's buffer small. A larger declared length
 * closes the connection before its payload is read.
 */
export const MAX_PAYLOAD_BYTES = 4096;

export interface Frame {
  readonly kind: number;
  /** A view into the parser's buffer: copy it if it must outlive the next `push`. */
  readonly payload: Buffer;
}

/** Why a byte stream is not AudioSocket. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    /** Metric label: `oversize`. */
    readonly reason: 'oversize',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Incremental parser over a TCP byte stream. Holds at most the unparsed
 * rest of the last chunk pushed plus one partial frame (≤ 3 + limit bytes):
 * the length is checked as declared, before any payload is waited for.
 */
export class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload = MAX_PAYLOAD_BYTES) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Bytes held (unparsed). */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Kind and declared length of the next frame, as far as they have arrived. */
  peek(): { kind: number | undefined; length: number | undefined } {
    return { kind: this.buffer[0], length: this.buffer.length >= HEADER_BYTES ? this.buffer.readUInt16BE(1) : undefined };
  }

  /**
   * The next complete frame, or undefined when more bytes are needed.
   * @throws FrameError when a declared length exceeds the limit.
   */
  next(): Frame | undefined {
    if (this.buffer.length < HEADER_BYTES) return undefined;
    const kind = this.buffer[0] as number;
    const length = this.buffer.readUInt16BE(1);
    if (length > this.maxPayload) throw new FrameError('oversize', `frame kind 0x${kind.toString(16).padStart(2, '0')} declares ${length} payload bytes, the limit is ${this.maxPayload}`);
    if (this.buffer.length < HEADER_BYTES + length) return undefined;
    const payload = this.buffer.subarray(HEADER_BYTES, HEADER_BYTES + length);
    this.buffer = this.buffer.subarray(HEADER_BYTES + length);
    return { kind, payload };
  }
}

/** One frame on the wire. */
export function encodeFrame(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`AudioSocket payloads hold at most 65535 bytes, got ${payload.length}`);
  const frame = Buffer.alloc(HEADER_BYTES + payload.length);
  frame[0] = kind & 0xff;
  frame.writeUInt16BE(payload.length, 1);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** The canonical string form (8-4-4-4-12, lower case) of a 16-byte UUID. */
export function uuidToString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The 16 bytes of a UUID string (any case, with or without dashes). @throws RangeError */
export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a UUID: ${uuid.slice(0, 40)}`);
  return Buffer.from(hex, 'hex');
}

/** Decodes little-endian slin (as Asterisk sends it) to host-order samples. The length must be even. */
export function decodeSlin(payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length >> 1);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Encodes samples as little-endian slin. */
export function encodeSlin(pcm: Int16Array): Buffer {
  const out = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i] ?? 0, i * 2);
  return out;
}

/** DTMF keys a telephone can send (RFC 4733 events 0-15). */
export const DTMF_DIGITS = '0123456789*#ABCD';
