/**
 * Receives one call leg's RTP (and RTCP) and turns it into in-order PCM.
 *
 * Pipeline per datagram on the RTP port:
 *
 * 1. RTCP multiplexed on the RTP port (RFC 5761 §4, detected with rtp.js
 *    `isRtcp`) goes to the RTCP path.
 * 2. Source latching (symmetric RTP, as SBCs do): the first valid RTP packet
 *    of the announced payload type fixes the remote `address:port`; any other
 *    source is dropped as `foreign_source`.
 * 3. Parsing with rtp.js `RtpPacket`; anything truncated or inconsistent is
 *    dropped as `malformed`, another payload type as `unexpected_payload_type`.
 * 4. {@link ReorderBuffer}, then the leg's {@link AudioDecoder}; losses come
 *    out as silence of the missing duration.
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
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { ByePacket, CompoundPacket, RtpPacket, isRtcp } from 'rtp.js/packets';
import { payloadSampleCount } from '../../audio/codecs/index.js';
import type { AudioDecoder } from '../../audio/codecs/Codec.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { RtpSocketPair } from './PortAllocator.js';
import { ReorderBuffer, type ReorderDropReason, type ReorderedFrame } from './ReorderBuffer.js';

/** Why a datagram was refused; the `reason` label of `sgw_rtp_packets_dropped_total`. */
export type RtpDropReason = 'foreign_source' | 'unexpected_payload_type' | 'malformed' | ReorderDropReason;

export const RTP_DROP_REASONS: readonly RtpDropReason[] = [
  'foreign_source',
  'unexpected_payload_type',
  'malformed',
  'duplicate',
  'late',
  'out_of_range',
];

export interface RemoteAddress {
  readonly address: string;
  readonly port: number;
}

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
  /** The remote RTP source was latched (once per receiver). */
  latched: [remote: RemoteAddress, ssrc: number];
  /** RTCP BYE from the latched source (by SSRC or address), RFC 3550 §6.6. Once per receiver. */
  bye: [event: RtpByeEvent];
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
  /** Packets held while waiting for a missing one (default 4, i.e. 80 ms at 20 ms ptime). */
  readonly reorderDepth?: number;
  /**
   * If packets are held waiting for a hole and nothing arrives for this long,
   * give the hole up and release them (default 100 ms). 0 disables.
   */
  readonly idleFlushMs?: number;
  /** Clock for `receivedAt` (default `Date.now`). */
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
  readonly #now: () => number;
  readonly #reorder: ReorderBuffer<Uint8Array>;
  readonly #idleFlushMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #receivedCounter: Counter | undefined;

  #remote: RemoteAddress | undefined;
  #ssrc: number | undefined;
  #previousSsrc: number | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #byeSeen = false;

  #packetsReceived = 0;
  #bytesReceived = 0;
  #packetsLost = 0;
  #rtcpPackets = 0;
  #lastPacketAt: number | undefined;
  readonly #dropped: Record<RtpDropReason, number> = {
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
    this.#now = options.now ?? Date.now;
    this.#idleFlushMs = options.idleFlushMs ?? 100;
    this.#receivedCounter = options.metrics?.rtpPacketsReceived.labels({ leg: options.leg });
    this.#reorder = new ReorderBuffer<Uint8Array>({
      depth: options.reorderDepth ?? 4,
      onRelease: (frame) => this.#onFrame(frame),
    });
    this.#rtpSocket.on('message', this.#onRtpMessage);
    this.#rtcpSocket.on('message', this.#onRtcpMessage);
    this.#rtpSocket.on('error', this.#onSocketError);
    this.#rtcpSocket.on('error', this.#onSocketError);
  }

  /** The latched remote RTP source, undefined until the first valid packet. */
  get remote(): RemoteAddress | undefined {
    return this.#remote;
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
      remote: this.#remote,
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
      this.#reorder.flush();
    } finally {
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
    const remote = this.#remote;
    if (remote !== undefined && (rinfo.port !== remote.port || rinfo.address !== remote.address)) {
      this.#drop('foreign_source');
      return;
    }
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
    if (packet.getPayloadType() !== this.decoder.spec.payloadType) {
      // Same stream, other payload (RFC 4733 events, comfort noise): it still
      // uses up a sequence number, which must not look like loss.
      if (remote !== undefined && ssrc === this.#ssrc) this.#reorder.push(seq, timestamp, 0, undefined, 0);
      this.#drop('unexpected_payload_type');
      return;
    }
    const payloadView = packet.getPayload();
    const samples = payloadSampleCount(this.decoder.spec, payloadView.byteLength);
    if (samples < 0) {
      // A torn payload (odd L16) of the followed stream: its slot becomes
      // silence of about its length rather than a hole the buffer waits on.
      if (remote !== undefined && ssrc === this.#ssrc) {
        this.#reorder.push(seq, timestamp, payloadView.byteLength >> 1, undefined, this.#now());
      }
      this.#drop('malformed');
      return;
    }

    if (remote === undefined) {
      this.#latch(rinfo, ssrc);
    } else if (ssrc !== this.#ssrc) {
      if (ssrc === this.#previousSsrc) {
        // A straggler of the stream we already switched away from.
        this.#drop('late');
        return;
      }
      // New stream from the same source (re-INVITE, transfer, music on hold):
      // keep what we have, then follow the new sequence space.
      this.#logger?.info({ leg: this.leg, oldSsrc: this.#ssrc, ssrc }, 'RTP SSRC changed');
      this.#reorder.flush();
      this.#reorder.reset();
      this.#previousSsrc = this.#ssrc;
      this.#ssrc = ssrc;
    }

    const receivedAt = this.#now();
    const payload = new Uint8Array(payloadView.buffer, payloadView.byteOffset, payloadView.byteLength);
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
  };

  readonly #onRtcpMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closing) return;
    if (msg.length < 4) {
      this.#drop('malformed');
      return;
    }
    this.#handleRtcp(msg, rinfo);
  };

  #handleRtcp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
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
    const remote = this.#remote;
    // RTCP comes from the remote's RTCP port (often RTP port + 1) or, muxed,
    // from its RTP port: the address is what identifies the source.
    const fromSource = remote !== undefined && rinfo.address === remote.address;
    let bye: ByePacket | undefined;
    for (const p of packets) {
      if (p instanceof ByePacket && remote !== undefined && this.#ssrc !== undefined) {
        if (fromSource || p.getSsrcs().includes(this.#ssrc)) bye = p;
      }
    }
    if (remote !== undefined && !fromSource && bye === undefined) {
      this.#drop('foreign_source');
      return;
    }
    this.#rtcpPackets += packets.length;
    if (this.#metrics) {
      for (const p of packets) this.#metrics.rtcpPacketsReceived.inc({ type: rtcpTypeLabel(p.getPacketType()) });
    }
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

  #latch(rinfo: dgram.RemoteInfo, ssrc: number): void {
    const remote: RemoteAddress = { address: rinfo.address, port: rinfo.port };
    this.#remote = remote;
    this.#ssrc = ssrc;
    this.#logger?.info({ leg: this.leg, remote: `${remote.address}:${remote.port}`, ssrc }, 'RTP source latched');
    this.emit('latched', remote, ssrc);
  }

  #drop(reason: RtpDropReason): void {
    this.#dropped[reason]++;
    this.#metrics?.rtpPacketsDropped.inc({ reason });
  }

  #onFrame(frame: ReorderedFrame<Uint8Array>): void {
    if (frame.kind === 'gap') {
      this.#packetsLost += frame.lostPackets;
      this.#metrics?.rtpPacketsLost.inc(frame.lostPackets);
      if (frame.samples > 0) {
        this.emit('audio', {
          pcm: new Int16Array(frame.samples),
          sampleRate: this.decoder.sampleRate,
          rtpTimestamp: frame.timestamp,
          receivedAt: this.#now(),
          concealed: true,
        });
      }
      return;
    }
    const payload = frame.payload;
    if (payload === undefined) {
      // Placeholder: another payload type of the stream (no audio for us) or
      // an unusable payload (silence of its duration).
      if (frame.samples > 0) {
        this.emit('audio', {
          pcm: new Int16Array(frame.samples),
          sampleRate: this.decoder.sampleRate,
          rtpTimestamp: frame.timestamp,
          receivedAt: frame.receivedAt,
          concealed: true,
        });
      }
      return;
    }
    if (payload.length === 0) return;
    let pcm: Int16Array;
    let concealed = false;
    try {
      pcm = this.decoder.decode(payload);
    } catch {
      // Lengths were checked before buffering; a decoder refusing anyway
      // still must not tear a hole in the timeline.
      pcm = new Int16Array(frame.samples);
      concealed = true;
    }
    this.emit('audio', {
      pcm,
      sampleRate: this.decoder.sampleRate,
      rtpTimestamp: frame.timestamp,
      receivedAt: frame.receivedAt,
      concealed,
    });
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
