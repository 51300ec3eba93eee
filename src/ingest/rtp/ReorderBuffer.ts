/**
 * The jitter buffer of one RTP stream: a small, bounded reorder buffer keyed
 * by the 16-bit sequence number, with timestamp-driven silence fill.
 * Socket-free so it can be unit-tested on its own.
 *
 * It does not play out on a clock (the recogniser consumes audio as fast as
 * it comes); its depth is how many packets it holds waiting for a missing
 * one, i.e. how much reordering it absorbs (`RTP_REORDER_DEPTH`). Overflow
 * policy: one packet more than `depth` gives the oldest hole up.
 *
 * - Packets are released strictly in sequence order through `onRelease`.
 * - While a sequence number is missing, up to `depth` later packets are held
 *   waiting for it. When one more arrives (or on {@link ReorderBuffer.flush})
 *   the hole is given up: it is released as a `gap` frame whose length in
 *   samples comes from the RTP timestamps of its neighbours (falling back to
 *   the last packet's duration), and counted as lost.
 * - Duplicates and packets arriving after their slot was released or given up
 *   are refused, and {@link ReorderBuffer.push} says why.
 * - Sequence arithmetic is modulo 2^16 as in RFC 3550 Appendix A.1; a jump
 *   larger than `maxDropout` ahead or `maxMisorder` behind is treated as a
 *   possible restart of the sender, accepted only once confirmed by the next
 *   consecutive packet (A.1's probation), as then the stream is re-based
 *   without inventing silence for the jump.
 *
 * - Timestamps: an audio packet whose RTP timestamp is ahead of where the
 *   previous audio ended, with no sequence number missing, is a sender's
 *   silence (silence suppression / DTX, RFC 3551 §4.1, or an RFC 4733 event
 *   that replaced the audio): up to `maxSilenceFill` ticks are released as a
 *   `gap` with `lostPackets` 0 so the leg's clock stays on call time. A
 *   larger jump, or one backwards, is a timestamp discontinuity (a sender
 *   re-basing its clock): counted, no fill, timing restarts from the packet.
 * - Concealment is silence: a lost packet's slot becomes zeros of its
 *   duration (no repetition of the last frame, which would only feed the
 *   recogniser phantom phonemes).
 * - Every event is reported to `onEvent` for metrics.
 *
 * The very first packet (and the first after a {@link ReorderBuffer.reset})
 * sets the base and is released at once; a packet older than it is late.
 *
 * @see
 * - [RFC 3550 Appendix A.1](https://datatracker.ietf.org/doc/html/rfc3550#appendix-A.1)
 */

/** Why {@link ReorderBuffer.push} refused a packet. */
export type ReorderDropReason = 'duplicate' | 'late' | 'out_of_range';

/**
 * What the buffer saw, the `event` label of `sgw_rtp_jitter_events_total`:
 * refusals, `reordered` (a packet that filled a hole others waited on),
 * `lost` (packets given up), `resync` (sequence restart confirmed),
 * `silence_fill` (timestamp gap filled), `timestamp_jump` (discontinuity).
 */
export type JitterEvent = ReorderDropReason | 'reordered' | 'lost' | 'resync' | 'silence_fill' | 'timestamp_jump';

export const JITTER_EVENTS: readonly JitterEvent[] = ['duplicate', 'late', 'out_of_range', 'reordered', 'lost', 'resync', 'silence_fill', 'timestamp_jump'];

/** A packet released in order. `payload` is undefined for a placeholder (see {@link ReorderBuffer.push}). */
export interface ReorderedPacket<T> {
  readonly kind: 'packet';
  readonly sequenceNumber: number;
  readonly timestamp: number;
  /** Duration in RTP timestamp ticks. */
  readonly samples: number;
  readonly payload: T | undefined;
  readonly receivedAt: number;
}

/**
 * One or more packets that never came (`lostPackets` > 0), or a sender's
 * silence between packets (`lostPackets` 0), to be replaced by `samples`
 * ticks of silence.
 */
export interface ReorderedGap {
  readonly kind: 'gap';
  /** Sequence number of the first missing packet. */
  readonly sequenceNumber: number;
  /** RTP timestamp where the missing audio starts. */
  readonly timestamp: number;
  /** Duration in RTP timestamp ticks. */
  readonly samples: number;
  readonly lostPackets: number;
}

export type ReorderedFrame<T> = ReorderedPacket<T> | ReorderedGap;

export interface ReorderBufferOptions<T> {
  /**
   * Packets held while waiting for a missing one (default 4 = 80 ms of 20 ms
   * packets). 0 disables reordering: holes are given up immediately.
   */
  readonly depth?: number;
  /** Largest forward sequence jump treated as loss rather than restart (default 250 packets, 5 s at 20 ms). */
  readonly maxDropout?: number;
  /** Largest backward sequence jump treated as a late packet rather than restart (default 100). */
  readonly maxMisorder?: number;
  /**
   * Largest forward timestamp gap (in ticks) between consecutive audio
   * packets that is filled with silence (default 0: none). Larger gaps and
   * backward steps count as `timestamp_jump`.
   */
  readonly maxSilenceFill?: number;
  /** Receives frames in sequence order, synchronously from push()/flush(). */
  readonly onRelease: (frame: ReorderedFrame<T>) => void;
  /** Told of every event, with a count (for `lost`, the packets given up). */
  readonly onEvent?: (event: JitterEvent, count: number) => void;
}

/** Per-buffer counters. */
export interface ReorderStats {
  released: number;
  lost: number;
  duplicate: number;
  late: number;
  outOfRange: number;
  resyncs: number;
  reordered: number;
  silenceFills: number;
  /** Ticks of silence filled for timestamp gaps. */
  silenceFillTicks: number;
  timestampJumps: number;
}

const EMPTY = 0;
const HELD = 1;
const RELEASED = 2;
const GIVEN_UP = 3;

const SEQ_MOD = 0x10000;
/** A gap's timestamp span is trusted up to this many times the nominal packet length. */
const MAX_GAP_STRETCH = 4;

/** Signed distance a - b in 16-bit sequence space, in [-32768, 32767]. */
export function seqDelta(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - SEQ_MOD : d;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

export class ReorderBuffer<T> {
  readonly depth: number;
  readonly maxDropout: number;
  readonly maxMisorder: number;
  readonly maxSilenceFill: number;
  readonly #onRelease: (frame: ReorderedFrame<T>) => void;
  readonly #onEvent: ((event: JitterEvent, count: number) => void) | undefined;

  // Ring of slots indexed by `seq & mask`. It holds packets waiting ahead of
  // `#next` and remembers what happened to recent sequence numbers behind it
  // (released or given up), to tell duplicates from late packets.
  readonly #mask: number;
  readonly #slotSeq: Int32Array;
  readonly #slotState: Uint8Array;
  readonly #slotTs: Float64Array;
  readonly #slotSamples: Int32Array;
  readonly #slotReceivedAt: Float64Array;
  readonly #slotPayload: (T | undefined)[];

  #started = false;
  /** Next sequence number to release. */
  #next = 0;
  #held = 0;
  /** RTP timestamp right after the last released audio, if any was released. */
  #expectedTs: number | undefined;
  /** Duration of the last released packet with a non-zero duration. */
  #lastSamples = 0;
  /** A.1 probation: the sequence number that would confirm a restart. */
  #badSeq = -1;

  readonly #stats: ReorderStats = {
    released: 0,
    lost: 0,
    duplicate: 0,
    late: 0,
    outOfRange: 0,
    resyncs: 0,
    reordered: 0,
    silenceFills: 0,
    silenceFillTicks: 0,
    timestampJumps: 0,
  };

  constructor(options: ReorderBufferOptions<T>) {
    const depth = options.depth ?? 4;
    const maxDropout = options.maxDropout ?? 250;
    const maxMisorder = options.maxMisorder ?? 100;
    if (!Number.isInteger(depth) || depth < 0 || depth > 1024) {
      throw new RangeError(`depth must be an integer 0-1024, got ${depth}`);
    }
    if (!Number.isInteger(maxDropout) || maxDropout < 1 || maxDropout > 0x7fff) {
      throw new RangeError(`maxDropout must be an integer 1-32767, got ${maxDropout}`);
    }
    if (!Number.isInteger(maxMisorder) || maxMisorder < 1 || maxMisorder > 0x7fff) {
      throw new RangeError(`maxMisorder must be an integer 1-32767, got ${maxMisorder}`);
    }
    this.depth = depth;
    this.maxDropout = maxDropout;
    this.maxMisorder = maxMisorder;
    const maxSilenceFill = options.maxSilenceFill ?? 0;
    if (!Number.isInteger(maxSilenceFill) || maxSilenceFill < 0 || maxSilenceFill > 0x7fffffff) {
      throw new RangeError(`maxSilenceFill must be a non-negative integer, got ${maxSilenceFill}`);
    }
    this.maxSilenceFill = maxSilenceFill;
    this.#onRelease = options.onRelease;
    this.#onEvent = options.onEvent;
    const size = nextPowerOfTwo(Math.max(16, (depth + 1) * 2));
    this.#mask = size - 1;
    this.#slotSeq = new Int32Array(size).fill(-1);
    this.#slotState = new Uint8Array(size);
    this.#slotTs = new Float64Array(size);
    this.#slotSamples = new Int32Array(size);
    this.#slotReceivedAt = new Float64Array(size);
    this.#slotPayload = new Array<T | undefined>(size).fill(undefined);
  }

  /** Packets currently held waiting for a missing one. */
  get pending(): number {
    return this.#held;
  }

  /** Snapshot of the counters. */
  get stats(): Readonly<ReorderStats> {
    return { ...this.#stats };
  }

  /**
   * Offers one packet.
   *
   * @param sequenceNumber - RTP sequence number (16 bits).
   * @param timestamp - RTP timestamp (32 bits).
   * @param samples - duration of the payload in timestamp ticks.
   * @param payload - what to hand back on release. `undefined` makes a
   *   placeholder: a packet of the same stream that occupies a sequence number
   *   but carries no audio for us (e.g. RFC 4733 telephone-events), so its
   *   absence is not mistaken for loss.
   * @param receivedAt - arrival time, handed back untouched.
   * @returns undefined if accepted, else why the packet was dropped.
   */
  push(
    sequenceNumber: number,
    timestamp: number,
    samples: number,
    payload: T | undefined,
    receivedAt = 0,
  ): ReorderDropReason | undefined {
    const seq = sequenceNumber & 0xffff;
    if (!this.#started) {
      this.#start(seq);
      this.#emitPacket(seq, timestamp, samples, payload, receivedAt);
      return undefined;
    }

    const d = seqDelta(seq, this.#next);
    if (d > this.maxDropout || d < -this.maxMisorder) {
      if (seq !== this.#badSeq) {
        // RFC 3550 A.1: remember it; a consecutive successor confirms a restart.
        this.#badSeq = (seq + 1) & 0xffff;
        this.#stats.outOfRange++;
        this.#onEvent?.('out_of_range', 1);
        return 'out_of_range';
      }
      this.flush();
      this.#stats.resyncs++;
      this.#onEvent?.('resync', 1);
      this.reset();
      this.#start(seq);
      this.#emitPacket(seq, timestamp, samples, payload, receivedAt);
      return undefined;
    }
    this.#badSeq = -1;

    if (d < 0) {
      const slot = seq & this.#mask;
      if (this.#slotSeq[slot] === seq && this.#slotState[slot] === RELEASED) {
        this.#stats.duplicate++;
        this.#onEvent?.('duplicate', 1);
        return 'duplicate';
      }
      this.#stats.late++;
      this.#onEvent?.('late', 1);
      return 'late';
    }

    if (d === 0) {
      if (this.#held > 0) {
        this.#stats.reordered++;
        this.#onEvent?.('reordered', 1);
      }
      this.#emitPacket(seq, timestamp, samples, payload, receivedAt);
      this.#drainConsecutive();
      return undefined;
    }

    if (d > this.#mask) {
      // Too far ahead to hold alongside the hole: give up everything before it.
      this.#giveUpAll();
      this.#emitGapUpTo(seq, timestamp);
      this.#emitPacket(seq, timestamp, samples, payload, receivedAt);
      return undefined;
    }

    const slot = seq & this.#mask;
    if (this.#slotState[slot] === HELD) {
      // Held slots ahead of #next within the ring are unique per sequence number.
      this.#stats.duplicate++;
      this.#onEvent?.('duplicate', 1);
      return 'duplicate';
    }
    this.#slotSeq[slot] = seq;
    this.#slotState[slot] = HELD;
    this.#slotTs[slot] = timestamp;
    this.#slotSamples[slot] = samples;
    this.#slotReceivedAt[slot] = receivedAt;
    this.#slotPayload[slot] = payload;
    this.#held++;
    while (this.#held > this.depth) this.#giveUpOneHole();
    return undefined;
  }

  /**
   * Releases every held packet in order, giving up the holes between them
   * (e.g. at the end of a leg, or after the stream went quiet). Packets that
   * arrive later for those holes are refused as late.
   */
  flush(): void {
    this.#giveUpAll();
  }

  /**
   * Forgets the stream (e.g. on an SSRC change) without releasing anything
   * still held: call {@link ReorderBuffer.flush} first to keep it. The next
   * packet sets a new base.
   */
  reset(): void {
    this.#slotSeq.fill(-1);
    this.#slotState.fill(EMPTY);
    this.#slotPayload.fill(undefined);
    this.#held = 0;
    this.#started = false;
    this.#expectedTs = undefined;
    this.#lastSamples = 0;
    this.#badSeq = -1;
  }

  #start(seq: number): void {
    this.#started = true;
    this.#next = seq;
    this.#badSeq = -1;
  }

  #emitPacket(seq: number, timestamp: number, samples: number, payload: T | undefined, receivedAt: number): void {
    const slot = seq & this.#mask;
    this.#slotSeq[slot] = seq;
    this.#slotState[slot] = RELEASED;
    this.#slotPayload[slot] = undefined;
    this.#next = (seq + 1) & 0xffff;
    this.#stats.released++;
    if (samples > 0 && this.#expectedTs !== undefined) this.#checkTimestamp(seq, timestamp);
    if (samples > 0) {
      this.#expectedTs = (timestamp + samples) >>> 0;
      this.#lastSamples = samples;
    } else if (payload !== undefined || this.#expectedTs === undefined) {
      this.#expectedTs = timestamp >>> 0;
    }
    this.#onRelease({ kind: 'packet', sequenceNumber: seq, timestamp, samples, payload, receivedAt });
  }

  /**
   * Before releasing audio at `timestamp`: fills a sender's silence with a
   * gap frame, or counts a discontinuity (see the class comment).
   */
  #checkTimestamp(seq: number, timestamp: number): void {
    const delta = ((timestamp >>> 0) - (this.#expectedTs ?? 0)) | 0;
    if (delta === 0) return;
    if (delta > 0 && delta <= this.maxSilenceFill) {
      this.#stats.silenceFills++;
      this.#stats.silenceFillTicks += delta;
      this.#onEvent?.('silence_fill', 1);
      this.#onRelease({ kind: 'gap', sequenceNumber: seq, timestamp: this.#expectedTs ?? 0, samples: delta, lostPackets: 0 });
      return;
    }
    this.#stats.timestampJumps++;
    this.#onEvent?.('timestamp_jump', 1);
  }

  /** Releases held packets from #next on for as long as they are consecutive. */
  #drainConsecutive(): void {
    while (this.#held > 0) {
      const slot = this.#next & this.#mask;
      if (this.#slotState[slot] !== HELD || this.#slotSeq[slot] !== this.#next) return;
      this.#releaseSlot(slot);
    }
  }

  #releaseSlot(slot: number): void {
    this.#held--;
    const payload = this.#slotPayload[slot];
    this.#emitPacket(
      this.#slotSeq[slot] ?? 0,
      this.#slotTs[slot] ?? 0,
      this.#slotSamples[slot] ?? 0,
      payload,
      this.#slotReceivedAt[slot] ?? 0,
    );
  }

  /** Gives up the hole at #next: emits the gap up to the first held packet and drains. */
  #giveUpOneHole(): void {
    for (let d = 1; d <= this.#mask; d++) {
      const seq = (this.#next + d) & 0xffff;
      const slot = seq & this.#mask;
      if (this.#slotState[slot] === HELD && this.#slotSeq[slot] === seq) {
        this.#emitGapUpTo(seq, this.#slotTs[slot] ?? 0);
        this.#drainConsecutive();
        return;
      }
    }
    // Unreachable while #held > 0; keep the counter honest regardless.
    this.#held = 0;
  }

  #giveUpAll(): void {
    while (this.#held > 0) this.#giveUpOneHole();
  }

  /**
   * Emits one gap frame for the sequence numbers from #next up to (not
   * including) `seq`, whose packet has RTP timestamp `timestamp`.
   */
  #emitGapUpTo(seq: number, timestamp: number): void {
    const lost = seqDelta(seq, this.#next);
    if (lost <= 0) return;
    const first = this.#next;
    const nominal = this.#lastSamples * lost;
    let samples = nominal;
    if (this.#expectedTs !== undefined) {
      const span = (timestamp - this.#expectedTs) >>> 0;
      // Trust the neighbours' timestamps unless they are implausible (timestamp
      // jumps or wraps that do not fit the number of missing packets).
      if (span > 0 && span <= nominal * MAX_GAP_STRETCH) samples = span;
    }
    const gapTs = this.#expectedTs ?? (timestamp - samples) >>> 0;
    // Remember the most recent ring-full of given-up numbers, for late detection.
    for (let i = Math.max(0, lost - this.#mask - 1); i < lost; i++) {
      const s = (first + i) & 0xffff;
      const slot = s & this.#mask;
      this.#slotSeq[slot] = s;
      this.#slotState[slot] = GIVEN_UP;
      this.#slotPayload[slot] = undefined;
    }
    this.#next = seq;
    this.#stats.lost += lost;
    this.#onEvent?.('lost', lost);
    this.#expectedTs = (gapTs + samples) >>> 0;
    this.#onRelease({ kind: 'gap', sequenceNumber: first, timestamp: gapTs, samples, lostPackets: lost });
  }
}
