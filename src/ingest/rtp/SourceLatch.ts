/**
 * Decides which remote `address:port` owns an RTP leg: source latching, as
 * symmetric-RTP media servers do (Asterisk's strictrtp probation, rtpengine,
 * FreeSWITCH's auto-adjust), made hard to hijack.
 *
 * - **Expected source** (optional, from StartCall): a packet from another
 *   address (or, when a port is given, another port) is `unexpected_source`
 *   and never latches.
 * - **Probation**: a source latches only after {@link PROBATION_PACKETS}
 *   consecutive in-sequence packets of one SSRC. Its packets are held
 *   meanwhile and replayed once it latches, so the PBX's first 80 ms are not
 *   lost, while one forged datagram (or a handful out of sequence) never
 *   takes the leg.
 * - **Takeover** (policy `relatch`): a new source replaces the latched one
 *   when it passes probation *and* its run spans {@link TAKEOVER_SILENCE_MS}
 *   with nothing at all from the latched source, paced in real time (its RTP
 *   timestamps no further ahead of the wall clock than that), then keeps
 *   sending for another {@link TAKEOVER_CONFIRM_MS}. That is NAT rebinding or
 *   an SBC failover; its held packets are replayed, so the call keeps its
 *   audio. A flood of in-sequence packets is not a media stream and never
 *   takes over.
 *   Policy `strict`: whoever latched first keeps the leg.
 *
 * Held packets are bounded (at most {@link MAX_CANDIDATES} sources on
 * probation, each holding at most {@link MAX_HELD_PACKETS} datagrams and
 * {@link MAX_HELD_BYTES} bytes). Overflow policy: the oldest held datagram
 * of that source goes, and a new source evicts the one heard least recently.
 * Every held datagram that is never replayed is reported through `onDiscard`
 * (the receiver counts it as `foreign_source`).
 */

/** `strict`: the first source to pass probation keeps the leg; `relatch`: a steady new source may take over a silent one. */
export const RTP_SOURCE_POLICIES = ['relatch', 'strict'] as const;
export type RtpSourcePolicy = (typeof RTP_SOURCE_POLICIES)[number];

export interface RemoteAddress {
  readonly address: string;
  readonly port: number;
}

/** Where a leg's RTP must come from; `port` undefined: any port of the address (NAT, SBC port pools). */
export interface ExpectedSource {
  readonly address: string;
  readonly port?: number;
}

/**
 * Consecutive in-sequence packets (one SSRC, each the next sequence number)
 * a source needs to latch or take over: 100 ms of a 20 ms stream, one more
 * than Asterisk's default probation of 4 and well beyond RFC 3550 A.1's 2.
 */
export const PROBATION_PACKETS = 5;
/**
 * How long a new source's run must last with nothing from the latched
 * source before it takes over: far beyond network jitter (tens of ms) and the
 * jitter buffer's 80 ms, short enough that the held packets cover it.
 */
export const TAKEOVER_SILENCE_MS = 250;
/**
 * Once a takeover qualifies, a packet of the run at least this much later
 * decides it. After an event-loop stall the socket's backlog is read in a
 * burst, and the latched source's packets may still be queued behind the
 * newcomer's; 40 ms is ample to read such a backlog.
 */
export const TAKEOVER_CONFIRM_MS = 40;
export const MAX_CANDIDATES = 4;
/** 640 ms of a 20 ms stream: covers a takeover's 290 ms with room for a smaller ptime. */
export const MAX_HELD_PACKETS = 32;
/** 500 ms of L16 at 16 kHz; the leg holds at most 4 x 16 KiB. */
export const MAX_HELD_BYTES = 16 * 1024;

/** A datagram held while its source is on probation. */
export interface HeldPacket {
  readonly msg: Buffer;
  readonly receivedAt: number;
}

/** What to do with a datagram, from its source alone. */
export type SourceVerdict = 'source' | 'probe' | 'unexpected_source' | 'foreign_source';

/** A source latched (first, or by takeover): replay its held packets, in order. */
export interface Latch {
  readonly remote: RemoteAddress;
  readonly ssrc: number;
  /** The source it took over from; undefined for the first latch. */
  readonly previous: RemoteAddress | undefined;
  readonly replay: readonly HeldPacket[];
}

export interface SourceLatchOptions {
  readonly policy: RtpSourcePolicy;
  /** RTP clock of the leg's codec, to tell a real-time stream from a flood. */
  readonly clockRate: number;
  readonly expected?: ExpectedSource;
  /** In-sequence packets a source needs (default {@link PROBATION_PACKETS}; 1 latches on the first, as before probation existed). */
  readonly probationPackets?: number;
  /** Held datagrams given up (never replayed). */
  readonly onDiscard: (count: number) => void;
}

interface Candidate {
  readonly remote: RemoteAddress;
  ssrc: number;
  lastSeq: number;
  run: number;
  runStartedAt: number;
  /** RTP timestamp of the run's first packet. */
  runFirstTimestamp: number;
  /** When the run first met the takeover conditions. */
  qualifiedAt: number | undefined;
  lastHeardAt: number;
  held: HeldPacket[];
  heldBytes: number;
}

export class SourceLatch {
  readonly policy: RtpSourcePolicy;
  readonly expected: ExpectedSource | undefined;
  readonly #onDiscard: (count: number) => void;
  readonly #probation: number;
  readonly #clockRate: number;
  readonly #candidates = new Map<string, Candidate>();
  #remote: RemoteAddress | undefined;
  #takeovers = 0;

  constructor(options: SourceLatchOptions) {
    this.policy = options.policy;
    this.expected = options.expected;
    this.#onDiscard = options.onDiscard;
    this.#probation = Math.max(1, options.probationPackets ?? PROBATION_PACKETS);
    this.#clockRate = options.clockRate;
  }

  /** The latched source, undefined until one passed probation. */
  get remote(): RemoteAddress | undefined {
    return this.#remote;
  }

  get takeovers(): number {
    return this.#takeovers;
  }

  /** Datagrams held for sources on probation. */
  get held(): number {
    let n = 0;
    for (const c of this.#candidates.values()) n += c.held.length;
    return n;
  }

  /**
   * First look at an RTP datagram, by its source: `source` (the latched one:
   * process it), `probe` (read its header and {@link offer} it), or a drop reason.
   */
  classify(address: string, port: number): SourceVerdict {
    const expected = this.expected;
    if (expected !== undefined && (address !== expected.address || (expected.port !== undefined && port !== expected.port))) {
      return 'unexpected_source';
    }
    const remote = this.#remote;
    if (remote !== undefined && address === remote.address && port === remote.port) {
      // The latched source is alive: no run so far was during its silence.
      if (this.#candidates.size > 0) this.#discardAll();
      return 'source';
    }
    if (remote !== undefined && this.policy === 'strict') return 'foreign_source';
    return 'probe';
  }

  /**
   * Whether RTCP from `address:port` is the latched source's: its address, and
   * its RTP port (rtcp-mux, or symmetric RTCP sent from the RTP socket) or the
   * RTP port + 1 (RFC 3550 §11). Always false before a source latched.
   */
  isSourceRtcp(address: string, port: number): boolean {
    const remote = this.#remote;
    return remote !== undefined && address === remote.address && (port === remote.port || port === remote.port + 1);
  }

  /**
   * Whether RTCP from `address:port` may be looked at at all: with an
   * expected source, only from its address and, when a port is given, that
   * port or the next (the same pair rule as {@link isSourceRtcp}).
   */
  admitsRtcp(address: string, port: number): boolean {
    const expected = this.expected;
    if (expected === undefined) return true;
    if (address !== expected.address) return false;
    return expected.port === undefined || port === expected.port || port === expected.port + 1;
  }

  /**
   * An RTP packet (of the leg's audio or telephone-event payload type, its
   * fixed header read) from a source `classify` said to probe. Holds it;
   * returns the latch when this packet completes the source's probation (or
   * takeover), undefined otherwise.
   */
  offer(remote: RemoteAddress, ssrc: number, seq: number, timestamp: number, msg: Buffer, now: number): Latch | undefined {
    const key = `${remote.address}:${remote.port}`;
    let c = this.#candidates.get(key);
    if (c === undefined) {
      if (this.#candidates.size >= MAX_CANDIDATES) this.#evictLeastRecent();
      c = {
        remote: { address: remote.address, port: remote.port },
        ssrc,
        lastSeq: seq,
        run: 0,
        runStartedAt: now,
        runFirstTimestamp: timestamp,
        qualifiedAt: undefined,
        lastHeardAt: now,
        held: [],
        heldBytes: 0,
      };
      this.#candidates.set(key, c);
    }
    if (c.run > 0 && ssrc === c.ssrc && seq === ((c.lastSeq + 1) & 0xffff)) {
      c.run++;
    } else {
      // A new run; what is held stays (a reordered first packet is still audio), bounded below.
      c.ssrc = ssrc;
      c.run = 1;
      c.runStartedAt = now;
      c.runFirstTimestamp = timestamp;
      c.qualifiedAt = undefined;
    }
    c.lastSeq = seq;
    c.lastHeardAt = now;
    this.#hold(c, { msg, receivedAt: now });

    if (c.run < this.#probation) return undefined;
    const previous = this.#remote;
    if (previous !== undefined) {
      // Takeover: classify() dropped every candidate when the latched source last spoke,
      // so this run has been the only traffic since.
      const runMs = now - c.runStartedAt;
      if (runMs < TAKEOVER_SILENCE_MS) return undefined;
      // Media a sender paces in real time; a burst read late may run ahead by up to the window.
      const mediaMs = (((timestamp - c.runFirstTimestamp) >>> 0) * 1000) / this.#clockRate;
      if (mediaMs > runMs + TAKEOVER_SILENCE_MS) return undefined;
      c.qualifiedAt ??= now;
      if (now - c.qualifiedAt < TAKEOVER_CONFIRM_MS) return undefined;
      this.#takeovers++;
    }
    this.#candidates.delete(key);
    this.#remote = c.remote;
    this.#discardAll();
    return { remote: c.remote, ssrc: c.ssrc, previous, replay: c.held };
  }

  /** Gives up everything held (the leg ends). */
  close(): void {
    this.#discardAll();
  }

  #hold(c: Candidate, packet: HeldPacket): void {
    c.held.push(packet);
    c.heldBytes += packet.msg.length;
    let dropped = 0;
    while (c.held.length > MAX_HELD_PACKETS || c.heldBytes > MAX_HELD_BYTES) {
      const oldest = c.held.shift();
      if (oldest === undefined) break;
      c.heldBytes -= oldest.msg.length;
      dropped++;
    }
    if (dropped > 0) this.#onDiscard(dropped);
  }

  #evictLeastRecent(): void {
    let victim: [string, Candidate] | undefined;
    for (const entry of this.#candidates) if (victim === undefined || entry[1].lastHeardAt < victim[1].lastHeardAt) victim = entry;
    if (victim === undefined) return;
    this.#candidates.delete(victim[0]);
    if (victim[1].held.length > 0) this.#onDiscard(victim[1].held.length);
  }

  #discardAll(): void {
    let dropped = 0;
    for (const c of this.#candidates.values()) dropped += c.held.length;
    this.#candidates.clear();
    if (dropped > 0) this.#onDiscard(dropped);
  }
}
