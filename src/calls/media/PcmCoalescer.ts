/**
 * Gathers small PCM chunks into frames of at least `frameSamples` before
 * they go to a leg. Every write reaches the recogniser's worker as one
 * message, so a client sending tiny frames (a 1-byte Twilio payload, a
 * 2-byte AudioHook frame, a 2-byte AudioSocket or StreamAudio chunk) would
 * cost a worker as much per byte as it costs per 20 ms frame and starve the
 * other calls on it. Holds less than one frame (bounded); `flush()` at the
 * end of the stream. Used by StreamedLegMedia for every streaming protocol.
 */
export class PcmCoalescer {
  private readonly buffer: Int16Array;
  private filled = 0;

  constructor(
    private readonly sink: (pcm: Int16Array) => void,
    private readonly frameSamples = 160,
  ) {
    this.buffer = new Int16Array(frameSamples);
  }

  write(pcm: Int16Array): void {
    let offset = 0;
    if (this.filled > 0) {
      const n = Math.min(pcm.length, this.frameSamples - this.filled);
      this.buffer.set(pcm.subarray(0, n), this.filled);
      this.filled += n;
      offset = n;
      if (this.filled < this.frameSamples) return;
      this.sink(this.buffer.slice());
      this.filled = 0;
    }
    const rest = pcm.length - offset;
    if (rest >= this.frameSamples) {
      // Whole frames pass through in one write (a copy only when part of the chunk was taken above).
      this.sink(offset === 0 ? pcm : pcm.slice(offset));
      return;
    }
    this.buffer.set(pcm.subarray(offset), 0);
    this.filled = rest;
  }

  /** Writes what is held (less than a frame). */
  flush(): void {
    if (this.filled === 0) return;
    this.sink(this.buffer.slice(0, this.filled));
    this.filled = 0;
  }
}
