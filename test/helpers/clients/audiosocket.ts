/**
 * An AudioSocket client written from the protocol definition (Asterisk's
 * app_audiosocket / chan_audiosocket side), for tests: Asterisk itself is not
 * available here. Frames: kind byte, 16-bit big-endian length, payload.
 *
 * @see https://docs.asterisk.org/Configuration/Channel-Drivers/AudioSocket/
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KIND_DTMF, KIND_HANGUP, KIND_SLIN_16K, KIND_SLIN_8K, KIND_UUID, encodeFrame, encodeSlin, uuidToBytes } from '../../../src/ingest/audiosocket/frames.js';

export class AudioSocketClient {
  /** Resolves when the server closed (or the socket failed). */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      });
    });
    // A reset by the server is an expected end here.
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<AudioSocketClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new AudioSocketClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Writes bytes; false when the socket is gone. Resolves once handed to the kernel (or buffered). */
  send(bytes: Uint8Array): Promise<boolean> {
    if (this.isClosed || this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.socket.write(bytes, (err) => resolve(err === undefined || err === null));
    });
  }

  sendUuid(uuid: string): Promise<boolean> {
    return this.send(encodeFrame(KIND_UUID, uuidToBytes(uuid)));
  }

  sendDtmf(digit: string): Promise<boolean> {
    return this.send(encodeFrame(KIND_DTMF, Buffer.from(digit, 'ascii')));
  }

  sendHangup(): Promise<boolean> {
    return this.send(encodeFrame(KIND_HANGUP));
  }

  /**
   * Streams PCM as slin frames of `frameMs` (Asterisk: 20 ms), paced in real
   * time against the wall clock as a channel would; `at(ms)` hooks let a
   * test inject frames (DTMF) at a call time. Stops early when the server closes.
   */
  async streamAudio(pcm: Int16Array, rate: 8000 | 16000, options: { frameMs?: number; realTime?: boolean; at?: { ms: number; send: () => Promise<unknown> }[] } = {}): Promise<number> {
    const frameMs = options.frameMs ?? 20;
    const size = (rate * frameMs) / 1000;
    const kind = rate === 8000 ? KIND_SLIN_8K : KIND_SLIN_16K;
    const pending = [...(options.at ?? [])].sort((a, b) => a.ms - b.ms);
    const started = Date.now();
    let frames = 0;
    for (let i = 0; i < pcm.length; i += size) {
      const ms = (i / rate) * 1000;
      while (pending.length > 0 && (pending[0]?.ms ?? Infinity) <= ms) await pending.shift()?.send();
      if (!(await this.send(encodeFrame(kind, encodeSlin(pcm.subarray(i, i + size)))))) break;
      frames++;
      if (options.realTime ?? true) {
        const due = started + ms + frameMs - Date.now();
        if (due > 0) await sleep(due);
      }
    }
    return frames;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
