/**
 * One real-time clock for every leg the load generator plays: a single timer
 * sends each leg's frames when due (frame *n* at start + n × ptime), so a
 * thousand legs cost one timer, not a thousand. Payloads are encoded once per
 * fixture, before the run. How late the generator itself sends is measured:
 * a run whose generator fell behind measured the generator, not the gateway.
 */
import { performance } from 'node:perf_hooks';

export interface PumpedLeg {
  /** Encoded payloads, one per ptime. */
  readonly frames: readonly Uint8Array[];
  /** Sends frame `index` now. */
  send(index: number, payload: Uint8Array): void;
  /** After frame `index` went out, at `sentAt` (epoch ms, sub-ms precision). */
  readonly onFrame?: (index: number, sentAt: number) => void;
}

interface Playing {
  readonly leg: PumpedLeg;
  readonly start: number;
  next: number;
  readonly done: () => void;
}

/** Epoch milliseconds with sub-millisecond precision (same clock as Date.now()). */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export class MediaPump {
  readonly #playing = new Set<Playing>();
  readonly #timer: NodeJS.Timeout;
  #framesSent = 0;
  /** How late frames left, in whole ms (index = ms, capped at the last bucket). */
  readonly #lateness = new Uint32Array(201);

  constructor(
    readonly ptimeMs = 20,
    tickMs = 4,
  ) {
    this.#timer = setInterval(() => this.#tick(), tickMs);
  }

  /** Plays `leg` from now; resolves after its last frame. */
  play(leg: PumpedLeg): Promise<void> {
    return new Promise((resolve) => {
      const playing: Playing = { leg, start: performance.now(), next: 0, done: resolve };
      this.#playing.add(playing);
      this.#send(playing, performance.now());
    });
  }

  get framesSent(): number {
    return this.#framesSent;
  }

  get activeLegs(): number {
    return this.#playing.size;
  }

  /** Send lateness percentiles (ms) since the last reset. */
  lateness(): { p50: number; p99: number; max: number; frames: number } {
    const total = this.#lateness.reduce((a, b) => a + b, 0);
    const at = (q: number): number => {
      let seen = 0;
      for (let ms = 0; ms < this.#lateness.length; ms++) {
        seen += this.#lateness[ms] as number;
        if (seen >= q * total) return ms;
      }
      return this.#lateness.length - 1;
    };
    let max = 0;
    this.#lateness.forEach((count, ms) => {
      if (count > 0) max = ms;
    });
    return { p50: total === 0 ? 0 : at(0.5), p99: total === 0 ? 0 : at(0.99), max, frames: total };
  }

  resetLateness(): void {
    this.#lateness.fill(0);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const playing of this.#playing) playing.done();
    this.#playing.clear();
  }

  #tick(): void {
    const now = performance.now();
    for (const playing of this.#playing) this.#send(playing, now);
  }

  #send(playing: Playing, now: number): void {
    const { leg } = playing;
    while (playing.next < leg.frames.length && playing.start + playing.next * this.ptimeMs <= now) {
      const index = playing.next++;
      const late = now - (playing.start + index * this.ptimeMs);
      const bucket = Math.min(200, Math.max(0, Math.floor(late)));
      this.#lateness[bucket] = (this.#lateness[bucket] ?? 0) + 1;
      leg.send(index, leg.frames[index] as Uint8Array);
      this.#framesSent++;
      leg.onFrame?.(index, performance.timeOrigin + now);
    }
    if (playing.next >= leg.frames.length) {
      this.#playing.delete(playing);
      playing.done();
    }
  }
}

/** Splits mono PCM into `samplesPerFrame` frames (the last padded with silence) and encodes each. */
export function encodeFrames(pcm: Int16Array, samplesPerFrame: number, encode: (frame: Int16Array) => Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset < pcm.length; offset += samplesPerFrame) {
    const frame = new Int16Array(samplesPerFrame);
    frame.set(pcm.subarray(offset, Math.min(offset + samplesPerFrame, pcm.length)));
    // Copy: encoders may reuse their output buffer.
    frames.push(Uint8Array.from(encode(frame)));
  }
  return frames;
}
