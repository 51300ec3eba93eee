/**
 * Receives one call leg's RTP (and RTCP) and turns it into in-order PCM.
 *
 * Pipeline per datagram on the RTP port:
 *
 * 1. RTCP multiplexed on the RTP port (RFC 5761 §4, detected with rtp.js
 *    `isRtcp`) goes to the RTCP path.
 * 2. Source latching ({@link SourceLatch}): packets from outside the expected
 *    source are `unexpected_source`; a source latches after a probation of
 *    in-sequence packets (held, then replayed); under policy `relatch` a
 *    steady new source takes over a silent one; other sources are
 *    `foreign_source`.
 * 3. Parsing with rtp.js `RtpPacket`; anything truncated or inconsistent is
 *    dropped as `malformed`, another payload type as `unexpected_payload_type`.
 * 4. RFC 4733 telephone-events (the leg's event payload type, default 101)
 *    go to {@link TelephoneEvents} and come out as one `'dtmf'` per press;
 *    they still take their sequence number in the jitter buffer.
 * 5. {@link ReorderBuffer} (the jitter buffer), then the leg's
 *    {@link AudioDecoder}; losses and a sender's silence come out as silence
 *    of the missing duration (converted from RTP ticks to PCM samples: G.722
 *    ticks at 8000 for 16 kHz audio, Opus at 48000 decoded to 16 kHz).
 *
 * RTCP (RFC 3550 §6): SR and RR are counted per leg and in
 * `sgw_rtcp_packets_received_total{type}`; a BYE from the latched source's
 * address and port pair ({@link SourceLatch.isSourceRtcp}) ends the leg.
 *
 * Input never throws and never produces an `'error'` event: every refused
 * datagram is counted in `sgw_rtp_packets_dropped_total{reason}` and in
 * {@link RtpLegReceiver.stats}. `'error'` is reserved for socket failures and
 * is only emitted when someone listens to it (otherwise it is logged).
 *
 * @see
 * - [RFC 3550](https://datatracker.ietf.org/doc/html/rfc3550) (RTP/RTCP)
 * - [RFC 3551](https://datatracker.ietf.org/doc/html/rfc3551) (audio profile)
 * - [RFC 5761](https://datatracker.ietf.org/doc/html/rfc5761) (rtcp-mux)
 * - [RFC 4733](https://datatracker.ietf.org/doc/html/rfc4733) (telephone-events)
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { ByePacket, CompoundPacket, ReceiverReportPacket, RtpPacket, SenderReportPacket, isRtcp } from 'rtp.js/packets';
import { payloadTicks, ticksToSamples } from '../../audio/codecs/index.js';
import type { AudioDecoder } from '../../audio/codecs/Codec.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LogLimiter } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { RtpSocketPair } from './PortAllocator.js';
import { ReorderBuffer, type JitterEvent, type ReorderStats, type ReorderDropReason, type ReorderedFrame } from './ReorderBuffer.js';
import { SourceLatch, type ExpectedSource, type HeldPacket, type Latch, type RemoteAddress, type RtpSourcePolicy } from './SourceLatch.js';
import { DEFAULT_TELEPHONE_EVENT_PT, TelephoneEvents, type TelephoneEventOutcome, type TelephoneEventPress } from './TelephoneEvents.js';

export type { RemoteAddress } from './SourceLatch.js';

/** Why a datagram was refused; the `reason` label of `sgw_rtp_packets_dropped_total`. */
export type RtpDropReason = 'unexpected_source' | 'foreign_source' | 'unexpected_payload_type' | 'malformed' | ReorderDropReason;

export const RTP_DROP_REASONS: readonly RtpDropReason[] = [
  'unexpected_source',
  'foreign_source',
  'unexpected_payload_type',
  'malformed',
  'duplicate',
  'late',
  'out_of_range',
];

/** One chunk of decoded audio, in RTP order. */
export interface RtpAudioFrame {
  /** Mono 16-bit PCM; owned by the listener. */
  readonly pcm: Int16Array;
  readonly sampleRate: number;
  /** RTP timestamp of the first sample. */
  readonly rtpTimestamp: number;
  /** `Date.now()`-style ms when the packet arrived (when the loss was decided, for silence). */
  readonly receivedAt: number;
  /** True for silence standing in for lost packets. */
  readonly concealed: boolean;
}

export interface RtpByeEvent {
  /** SSRCs listed in the BYE. */
  readonly ssrcs: readonly number[];
  readonly reason: string | undefined;
  /** Where the BYE came from. */
  readonly from: RemoteAddress;
}

/** Events of {@link RtpLegReceiver}. */
export interface RtpLegReceiverEvents {
  /** Decoded audio (and silence for losses), strictly in order. */
  audio: [frame: RtpAudioFrame];
  /** An RTP packet was accepted: feed for the call's RTP-silence timeout. */
  activity: [];
  /** A remote RTP source latched: the first one (`previous` undefined), or one that took over. */
  latched: [remote: RemoteAddress, ssrc: number, previous: RemoteAddress | undefined];
  /** RTCP BYE from the latched source's address and port pair, RFC 3550 §6.6. Once per receiver. */
  bye: [event: RtpByeEvent];
  /** A DTMF key press (RFC 4733), once per press. */
  dtmf: [press: TelephoneEventPress];
  /** Socket failure (never input problems). */
  error: [err: Error];
  /** Both sockets are closed. */
  close: [];
}

export interface RtpLegStats {
  /** RTP packets accepted into the leg. */
  readonly packetsReceived: number;
  /** Bytes of the accepted RTP datagrams, headers included. */
  readonly bytesReceived: number;
  /** Packets never received, replaced by silence. */
  readonly packetsLost: number;
  /** Datagrams refused, all reasons. */
  readonly packetsDropped: number;
  readonly droppedByReason: Readonly<Record<RtpDropReason, number>>;
  /** RTCP packets (compound members) accepted. */
  readonly rtcpPacketsReceived: number;
  /** RTCP sender reports accepted. */
  readonly rtcpSenderReports: number;
  /** RTCP receiver reports accepted. */
  readonly rtcpReceiverReports: number;
  /** DTMF presses reported. */
  readonly dtmfPresses: number;
  /** SSRC changes followed. */
  readonly ssrcChanges: number;
  /** Times a new source took the leg over from the latched one (policy `relatch`). */
  readonly sourceTakeovers: number;
  /** Datagrams held while their source is on probation (neither received nor dropped yet). */
  readonly packetsOnProbation: number;
  /** Jitter buffer counters (reordered, resyncs, silence fills, timestamp jumps...). */
  readonly jitter: Readonly<ReorderStats>;
  readonly remote: RemoteAddress | undefined;
  readonly ssrc: number | undefined;
  /** `Date.now()` of the last accepted RTP packet. */
  readonly lastPacketAt: number | undefined;
}

export interface RtpLegReceiverOptions {
  /** Leg name for the `leg` metric label and logs; keep it low-cardinality (`customer`, `agent`). */
  readonly leg: string;
  /** Bound sockets, e.g. a {@link PortLease}; the receiver closes them on close(). */
  readonly sockets: RtpSocketPair;
  readonly decoder: AudioDecoder;
  readonly metrics?: GatewayMetrics;
  readonly logger?: Logger;
  /** Rate-limits the lines a sender can repeat per packet (an SSRC change); without it they go to `logger` at debug. */
  readonly logLimiter?: LogLimiter;
  /** Packets held while waiting for a missing one (default 4, i.e. 80 ms at 20 ms ptime). */
  readonly reorderDepth?: number;
  /**
   * Largest RTP timestamp gap between consecutive packets filled with
   * silence, in ms (default 10 000); larger ones are discontinuities.
   */
  readonly maxSilenceFillMs?: number;
  /**
   * If packets are held waiting for a hole and nothing arrives for this long,
   * give the hole up and release them (default 100 ms). 0 disables.
   */
  readonly idleFlushMs?: number;
  /** Who may take the leg (default `relatch`); see {@link SourceLatch}. */
  readonly sourcePolicy?: RtpSourcePolicy;
  /** Only this source may latch (from StartCall); others are `unexpected_source`. */
  readonly expectedSource?: ExpectedSource;
  /** In-sequence packets a source needs to latch (default 5, see {@link SourceLatch}). */
  readonly probationPackets?: number;
  /** Clock for `receivedAt` and the takeover rule (default `Date.now`). */
  readonly now?: () => number;
}

const RTP_HEADER_BYTES = 12;
const RTP_VERSION = 2;

const RTCP_TYPE_LABELS: Readonly<Record<number, string>> = {
  195: 'ij',
  200: 'sr',
  201: 'rr',
  202: 'sdes',
  203: 'bye',
  204: 'app',
  205: 'rtpfb',
  206: 'psfb',
  207: 'xr',
};

function rtcpTypeLabel(type: number): string {
  return RTCP_TYPE_LABELS[type] ?? 'other';
}

type Counter = { inc(value?: number): void };

export class RtpLegReceiver extends EventEmitter<RtpLegReceiverEvents> {
  readonly leg: string;
  readonly decoder: AudioDecoder;
  readonly rtpPort: number;
  readonly rtcpPort: number;

  readonly #rtpSocket: dgram.Socket;
  readonly #rtcpSocket: dgram.Socket;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #logLimiter: LogLimiter | undefined;
  readonly #now: () => number;
  readonly #reorder: ReorderBuffer<Uint8Array>;
  readonly #idleFlushMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #receivedCounter: Counter | undefined;
  readonly #telephoneEvents: TelephoneEvents;
  /** RFC 4733 payload type, unless the audio uses that number. */
  readonly #eventPayloadType: number | undefined;

  readonly #latch: SourceLatch;
  #ssrc: number | undefined;
  #previousSsrc: number | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #byeSeen = false;

  #packetsReceived = 0;
  #bytesReceived = 0;
  #packetsLost = 0;
  #rtcpPackets = 0;
  #senderReports = 0;
  #receiverReports = 0;
  #dtmfPresses = 0;
  #ssrcChanges = 0;
  #lastPacketAt: number | undefined;
  readonly #dropped: Record<RtpDropReason, number> = {
    unexpected_source: 0,
    foreign_source: 0,
    unexpected_payload_type: 0,
    malformed: 0,
    duplicate: 0,
    late: 0,
    out_of_range: 0,
  };

  constructor(options: RtpLegReceiverOptions) {
    super();
    this.leg = options.leg;
    this.decoder = options.decoder;
    this.rtpPort = options.sockets.rtpPort;
    this.rtcpPort = options.sockets.rtcpPort;
    this.#rtpSocket = options.sockets.rtpSocket;
    this.#rtcpSocket = options.sockets.rtcpSocket;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#logLimiter = options.logLimiter;
    this.#now = options.now ?? Date.now;
    this.#idleFlushMs = options.idleFlushMs ?? 100;
    this.#receivedCounter = options.metrics?.rtpPacketsReceived.labels({ leg: options.leg });
    const spec = options.decoder.spec;
    this.#latch = new SourceLatch({
      policy: options.sourcePolicy ?? 'relatch',
      clockRate: spec.clockRate,
      expected: options.expectedSource,
      probationPackets: options.probationPackets,
      onDiscard: (count) => this.#drop('foreign_source', count),
    });
    this.#reorder = new ReorderBuffer<Uint8Array>({
      depth: options.reorderDepth ?? 4,
      maxSilenceFill: Math.round(((options.maxSilenceFillMs ?? 10_000) * spec.clockRate) / 1000),
      onRelease: (frame) => this.#onFrame(frame),
      onEvent: (event, count) => this.#onJitterEvent(event, count),
    });
    const eventPt = spec.telephoneEventPayloadType ?? DEFAULT_TELEPHONE_EVENT_PT;
    this.#eventPayloadType = eventPt === spec.payloadType ? undefined : eventPt;
    this.#telephoneEvents = new TelephoneEvents({
      clockRate: spec.clockRate,
      onPress: (press) => {
        this.#dtmfPresses++;
        // Debug only: a sender can press thousands of times a second (the leg bounds the events, sgw_rtp_telephone_events_total counts them).
        this.#logger?.debug({ leg: this.leg, durationMs: press.durationMs }, 'DTMF press received');
        this.emit('dtmf', press);
      },
    });
    this.#rtpSocket.on('message', this.#onRtpMessage);
    this.#rtcpSocket.on('message', this.#onRtcpMessage);
    this.#rtpSocket.on('error', this.#onSocketError);
    this.#rtcpSocket.on('error', this.#onSocketError);
  }

  /** The latched remote RTP source, undefined until one passed probation. */
  get remote(): RemoteAddress | undefined {
    return this.#latch.remote;
  }

  /** SSRC of the stream currently followed. */
  get ssrc(): number | undefined {
    return this.#ssrc;
  }

  get closed(): boolean {
    return this.#closing;
  }

  /** Snapshot of the leg's counters. */
  get stats(): RtpLegStats {
    let packetsDropped = 0;
    for (const reason of RTP_DROP_REASONS) packetsDropped += this.#dropped[reason];
    return {
      packetsReceived: this.#packetsReceived,
      bytesReceived: this.#bytesReceived,
      packetsLost: this.#packetsLost,
      packetsDropped,
      droppedByReason: { ...this.#dropped },
      rtcpPacketsReceived: this.#rtcpPackets,
      rtcpSenderReports: this.#senderReports,
      rtcpReceiverReports: this.#receiverReports,
      dtmfPresses: this.#dtmfPresses,
      ssrcChanges: this.#ssrcChanges,
      sourceTakeovers: this.#latch.takeovers,
      packetsOnProbation: this.#latch.held,
      jitter: this.#reorder.stats,
      remote: this.#latch.remote,
      ssrc: this.#ssrc,
      lastPacketAt: this.#lastPacketAt,
    };
  }

  /**
   * Releases what the reorder buffer still holds (emitting its audio), closes
   * both sockets and emits `'close'`. Idempotent: every call returns the same
   * promise, resolved once the sockets are closed.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    // Assign the promise before flushing: an 'audio' listener may call close() again.
    let flushed!: () => void;
    const ready = new Promise<void>((resolve) => (flushed = resolve));
    this.#closed = ready.then(() => this.#closeSockets());
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#rtpSocket.removeListener('message', this.#onRtpMessage);
    this.#rtcpSocket.removeListener('message', this.#onRtcpMessage);
    try {
      this.#latch.close();
      this.#reorder.flush();
      this.#telephoneEvents.flush();
    } finally {
      this.decoder.close?.();
      flushed();
    }
    return this.#closed;
  }

  async #closeSockets(): Promise<void> {
    await Promise.all([closeSocket(this.#rtpSocket), closeSocket(this.#rtcpSocket)]);
    this.emit('close');
  }

  readonly #onSocketError = (err: Error): void => {
    this.#logger?.warn({ leg: this.leg, err: errorMessage(err) }, 'RTP socket error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  };

  readonly #onRtpMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closing) return;
    const length = msg.length;
    if (length < RTP_HEADER_BYTES) {
      // Too short for RTP; still possibly a muxed RTCP packet (4+ bytes).
      if (length >= 4 && (msg[0] ?? 0) >> 6 === RTP_VERSION) this.#handleRtcp(msg, rinfo);
      else this.#drop('malformed');
      return;
    }
    const view = new DataView(msg.buffer, msg.byteOffset, length);
    if (isRtcp(view)) {
      this.#handleRtcp(msg, rinfo);
      return;
    }
    const verdict = this.#latch.classify(rinfo.address, rinfo.port);
    if (verdict === 'source') this.#onSourcePacket(msg, view, this.#now());
    else if (verdict === 'probe') this.#probe(msg, rinfo);
    else this.#drop(verdict);
  };

  /**
   * A datagram from a source that has not (or not yet) got the leg: offered
   * to the latch if it is RTP of this leg, held there, and replayed if this
   * packet completes the source's probation or takeover.
   */
  #probe(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // With a source latched, whatever else arrives is foreign first of all.
    const latched = this.#latch.remote !== undefined;
    // The fixed header is enough to judge a run (and cheap under a flood); a packet
    // that gets replayed is parsed in full then.
    if ((msg[0] ?? 0) >> 6 !== RTP_VERSION) {
      this.#drop(latched ? 'foreign_source' : 'malformed');
      return;
    }
    const payloadType = (msg[1] ?? 0) & 0x7f;
    if (payloadType !== this.decoder.spec.payloadType && payloadType !== this.#eventPayloadType) {
      this.#drop(latched ? 'foreign_source' : 'unexpected_payload_type');
      return;
    }
    const latch = this.#latch.offer({ address: rinfo.address, port: rinfo.port }, msg.readUInt32BE(8), msg.readUInt16BE(2), msg.readUInt32BE(4), msg, this.#now());
    if (latch !== undefined) this.#onLatched(latch);
  }

  #onLatched(latch: Latch): void {
    const { remote, ssrc, previous } = latch;
    if (previous === undefined) {
      this.#logger?.info({ leg: this.leg, remote: `${remote.address}:${remote.port}`, ssrc }, 'RTP source latched');
      this.#metrics?.rtpSourceLatches.inc({ kind: 'first' });
    } else {
      this.#logger?.warn(
        { leg: this.leg, remote: `${remote.address}:${remote.port}`, previous: `${previous.address}:${previous.port}`, ssrc, oldSsrc: this.#ssrc },
        'RTP source taken over: the latched source fell silent and a new one carries a steady stream',
      );
      this.#metrics?.rtpSourceLatches.inc({ kind: 'takeover' });
      // The new source's stream is followed from its first held packet; the
      // takeover line above says it all, so the SSRC change is not logged again.
      if (ssrc !== this.#ssrc) this.#switchSsrc(ssrc, false);
      this.#previousSsrc = undefined;
    }
    this.emit('latched', remote, ssrc, previous);
    for (const held of latch.replay) this.#replay(held);
  }

  #replay(held: HeldPacket): void {
    if (this.#closing) return;
    this.#onSourcePacket(held.msg, new DataView(held.msg.buffer, held.msg.byteOffset, held.msg.length), held.receivedAt);
  }

  /** An RTP datagram (not RTCP) from the latched source. */
  #onSourcePacket(msg: Buffer, view: DataView, receivedAt: number): void {
    const length = msg.length;
    if ((msg[0] ?? 0) >> 6 !== RTP_VERSION) {
      this.#drop('malformed');
      return;
    }

    let packet: RtpPacket;
    try {
      packet = new RtpPacket(view);
    } catch {
      this.#drop('malformed');
      return;
    }

    const ssrc = packet.getSsrc();
    const seq = packet.getSequenceNumber();
    const timestamp = packet.getTimestamp();
    const payloadType = packet.getPayloadType();
    // The stream the leg follows starts with the source's first packet.
    this.#ssrc ??= ssrc;
    if (payloadType === this.#eventPayloadType && payloadType !== this.decoder.spec.payloadType) {
      this.#onTelephoneEvent(packet, ssrc, seq, timestamp, length, receivedAt);
      return;
    }
    if (payloadType !== this.decoder.spec.payloadType) {
      // Same stream, other payload (RFC 4733 events, comfort noise): it still
      // uses up a sequence number, which must not look like loss.
      if (ssrc === this.#ssrc) this.#reorder.push(seq, timestamp, 0, undefined, 0);
      this.#drop('unexpected_payload_type');
      return;
    }
    const payloadView = packet.getPayload();
    const payload = new Uint8Array(payloadView.buffer, payloadView.byteOffset, payloadView.byteLength);
    const samples = payloadTicks(this.decoder.spec, payload);
    if (samples < 0) {
      // A torn payload (odd L16, bad Opus TOC) of the followed stream: its slot becomes
      // silence of about its length rather than a hole the buffer waits on.
      if (ssrc === this.#ssrc) {
        // (An Opus packet with a broken TOC has no length to go by: count it as 20 ms.)
        const ticks = this.decoder.spec.name === 'OPUS' ? 960 : payloadView.byteLength >> 1;
        this.#reorder.push(seq, timestamp, ticks, undefined, receivedAt);
      }
      this.#drop('malformed');
      return;
    }

    if (ssrc !== this.#ssrc) {
      if (ssrc === this.#previousSsrc) {
        // A straggler of the stream we already switched away from.
        this.#drop('late');
        return;
      }
      this.#switchSsrc(ssrc, true);
    }

    this.#telephoneEvents.expire(receivedAt);
    const refused = this.#reorder.push(seq, timestamp, samples, payload, receivedAt);
    if (refused !== undefined) {
      this.#drop(refused);
      return;
    }
    this.#packetsReceived++;
    this.#bytesReceived += length;
    this.#lastPacketAt = receivedAt;
    this.#receivedCounter?.inc();
    this.#armIdleFlush();
    this.emit('activity');
  }

  /**
   * New stream from the same source (re-INVITE, transfer, music on hold), or
   * the stream of a source that took over: keep what we have, then follow the
   * new sequence and timestamp space (no silence is invented for the switch).
   */
  #switchSsrc(ssrc: number, log: boolean): void {
    if (log) {
      const fields = { leg: this.leg, oldSsrc: this.#ssrc, ssrc };
      const remote = this.remote;
      // A sender can change SSRC with every packet: once per source a window (counted in sgw_rtp_jitter_events_total too).
      if (this.#logger !== undefined && this.#logLimiter !== undefined && remote !== undefined) this.#logLimiter.log(this.#logger, 'info', 'rtp-ssrc-change', `${remote.address}:${remote.port}`, fields, 'RTP SSRC changed');
      else this.#logger?.debug(fields, 'RTP SSRC changed');
    }
    this.#reorder.flush();
    this.#reorder.reset();
    this.#previousSsrc = this.#ssrc;
    this.#ssrc = ssrc;
    this.#ssrcChanges++;
    this.#metrics?.rtpJitterEvents.inc({ event: 'ssrc_change' });
  }

  /** An RFC 4733 packet from the latched source (DTMF may come first, and passes probation like audio). */
  #onTelephoneEvent(packet: RtpPacket, ssrc: number, seq: number, timestamp: number, length: number, now: number): void {
    const view = packet.getPayload();
    const payload = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (payload.byteLength < 4 || payload.byteLength % 4 !== 0) {
      this.#countEvent('malformed');
      this.#drop('malformed');
      return;
    }
    // Occupies its sequence number in the jitter buffer without audio, so it is not mistaken for loss.
    // Some gateways send events under an SSRC of their own: those are read, but they neither
    // switch the followed stream nor touch its sequence space.
    const refused = ssrc === this.#ssrc ? this.#reorder.push(seq, timestamp, 0, undefined, now) : undefined;
    // Even a late/duplicate event packet may be a redundant end: the parser deduplicates by timestamp.
    this.#countEvent(this.#telephoneEvents.push(ssrc, timestamp, payload, now));
    if (refused !== undefined && refused !== 'duplicate' && refused !== 'late') {
      this.#drop(refused);
      return;
    }
    this.#packetsReceived++;
    this.#bytesReceived += length;
    this.#lastPacketAt = now;
    this.#receivedCounter?.inc();
    this.#armIdleFlush();
    this.emit('activity');
  }

  #countEvent(outcome: TelephoneEventOutcome): void {
    this.#metrics?.rtpTelephoneEvents.inc({ outcome });
  }

  #onJitterEvent(event: JitterEvent, count: number): void {
    this.#metrics?.rtpJitterEvents.inc({ event }, count);
  }

  readonly #onRtcpMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closing) return;
    if (msg.length < 4) {
      this.#drop('malformed');
      return;
    }
    this.#handleRtcp(msg, rinfo);
  };

  #handleRtcp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.#latch.admitsRtcp(rinfo.address, rinfo.port)) {
      this.#drop('unexpected_source');
      return;
    }
    const view = new DataView(msg.buffer, msg.byteOffset, msg.length);
    let compound: CompoundPacket;
    try {
      if (!isRtcp(view)) {
        this.#drop('malformed');
        return;
      }
      compound = new CompoundPacket(view);
    } catch {
      this.#drop('malformed');
      return;
    }
    const packets = compound.getPackets();
    // Only the latched source's address and port pair counts: an SSRC is in
    // the clear in every RTP packet, so naming it proves nothing.
    const latched = this.#latch.remote !== undefined;
    const fromSource = this.#latch.isSourceRtcp(rinfo.address, rinfo.port);
    if (latched && !fromSource) {
      this.#drop('foreign_source');
      return;
    }
    this.#rtcpPackets += packets.length;
    for (const p of packets) {
      if (p instanceof SenderReportPacket) this.#senderReports++;
      else if (p instanceof ReceiverReportPacket) this.#receiverReports++;
    }
    if (this.#metrics) {
      for (const p of packets) this.#metrics.rtcpPacketsReceived.inc({ type: rtcpTypeLabel(p.getPacketType()) });
    }
    // Before a source latched, RTCP is counted but a BYE ends nothing.
    const bye = fromSource ? packets.find((p): p is ByePacket => p instanceof ByePacket) : undefined;
    if (bye !== undefined && !this.#byeSeen) {
      this.#byeSeen = true;
      const event: RtpByeEvent = {
        ssrcs: bye.getSsrcs(),
        reason: bye.getReason(),
        from: { address: rinfo.address, port: rinfo.port },
      };
      this.#logger?.info({ leg: this.leg, ssrcs: event.ssrcs, reason: event.reason }, 'RTCP BYE received');
      this.emit('bye', event);
    }
  }

  #drop(reason: RtpDropReason, count = 1): void {
    this.#dropped[reason] += count;
    this.#metrics?.rtpPacketsDropped.inc({ reason }, count);
  }

  #onFrame(frame: ReorderedFrame<Uint8Array>): void {
    if (frame.kind === 'gap') {
      this.#packetsLost += frame.lostPackets;
      if (frame.lostPackets > 0) this.#metrics?.rtpPacketsLost.inc(frame.lostPackets);
      this.#emitSilence(frame.samples, frame.timestamp, this.#now(), frame.lostPackets > 0 ? 'loss' : 'sender_silence');
      return;
    }
    const payload = frame.payload;
    if (payload === undefined) {
      // Placeholder: another payload type of the stream (no audio for us) or
      // an unusable payload (silence of its duration).
      this.#emitSilence(frame.samples, frame.timestamp, frame.receivedAt, 'undecodable');
      return;
    }
    if (payload.length === 0) return;
    let pcm: Int16Array;
    try {
      pcm = this.decoder.decode(payload);
    } catch {
      // Lengths were checked before buffering; a decoder refusing anyway
      // still must not tear a hole in the timeline.
      this.#emitSilence(frame.samples, frame.timestamp, frame.receivedAt, 'undecodable');
      return;
    }
    this.emit('audio', {
      pcm,
      sampleRate: this.decoder.sampleRate,
      rtpTimestamp: frame.timestamp,
      receivedAt: frame.receivedAt,
      concealed: false,
    });
  }

  /** Concealment is silence: `ticks` of RTP time as zeros at the decoder's PCM rate. */
  #emitSilence(ticks: number, rtpTimestamp: number, receivedAt: number, cause: 'loss' | 'sender_silence' | 'undecodable'): void {
    if (ticks <= 0) return;
    const samples = ticksToSamples(this.decoder.spec, ticks);
    if (samples <= 0) return;
    this.#metrics?.rtpConcealedSeconds.inc({ cause }, samples / this.decoder.sampleRate);
    this.emit('audio', { pcm: new Int16Array(samples), sampleRate: this.decoder.sampleRate, rtpTimestamp, receivedAt, concealed: true });
  }

  #armIdleFlush(): void {
    if (this.#idleFlushMs <= 0 || this.#reorder.pending === 0) return;
    if (this.#idleTimer) {
      this.#idleTimer.refresh();
      return;
    }
    this.#idleTimer = setTimeout(() => {
      if (!this.#closing && this.#reorder.pending > 0) this.#reorder.flush();
    }, this.#idleFlushMs);
    this.#idleTimer.unref();
  }
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
