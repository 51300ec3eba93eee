/**
 * A paced, real-time RTP sender that behaves like a PBX leg: fixed-ptime
 * packets, random initial SSRC / sequence number / timestamp, marker bit on
 * the first packet of the talkspurt (RFC 3551 §4.1), an RTCP SR + SDES + BYE
 * compound at the end (RFC 3550 §6.6). Used by the demo and the load test.
 *
 * Pacing is scheduled against a fixed start instant: packet *n* is due at
 * `start + n × ptime`, so timer lateness never accumulates into drift. If the
 * event loop stalls, the overdue packets are sent back-to-back to catch up,
 * as a real endpoint's jitter would look to the gateway.
 *
 * DTMF goes as RFC 4733 telephone-events ({@link RtpSender.sendDtmf}) in the
 * same sequence space, the audio clock pausing for the press as a PBX's does.
 *
 * @see
 * - [RFC 4733 section 2.5](https://datatracker.ietf.org/doc/html/rfc4733#section-2.5)
 * - [RFC 3550 section 5.1](https://datatracker.ietf.org/doc/html/rfc3550#section-5.1)
 * - [RFC 3551 section 4.5](https://datatracker.ietf.org/doc/html/rfc3551#section-4.5)
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByePacket, CompoundPacket, RtpPacket, SdesChunk, SdesPacket, SenderReportPacket } from 'rtp.js/packets';
import type { SdesItemType } from 'rtp.js/packets';
import { createEncoder, type AudioEncoder } from '../../audio/codecs/index.js';
import type { CodecSpec } from '../../audio/codecs/Codec.js';

export interface RtpSenderOptions {
  readonly codec: CodecSpec;
  /** Where RTP goes. */
  readonly destination: { readonly address: string; readonly port: number };
  /** Where RTCP goes (default destination port + 1; pass the RTP port for rtcp-mux). */
  readonly rtcpPort?: number;
  /** Packet duration in ms (default 20). */
  readonly ptimeMs?: number;
  /** Random if unset. */
  readonly ssrc?: number;
  /** Random if unset. */
  readonly initialSequenceNumber?: number;
  /** Random if unset. */
  readonly initialTimestamp?: number;
  /** RTCP SDES CNAME (default `sender@<ssrc>`). */
  readonly cname?: string;
  /** Local address to bind (default any). */
  readonly bindAddress?: string;
  /** Local port to bind (default ephemeral). */
  readonly localPort?: number;
}

export interface RtpSendOptions {
  /** Stops sending; the send() promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Send RTCP BYE after the last packet (or on abort). Default false; a string is the BYE reason. */
  readonly bye?: boolean | string;
}

export interface RtpSendResult {
  readonly packetsSent: number;
  /** RTP payload octets sent (as in the RTCP SR octet count). */
  readonly payloadBytesSent: number;
  /** Wall-clock ms from the first packet to the last. */
  readonly durationMs: number;
  readonly ssrc: number;
}

const NTP_EPOCH_OFFSET_S = 2208988800;
const CNAME_ITEM = 1 as SdesItemType;

export class RtpSender {
  readonly codec: CodecSpec;
  readonly ssrc: number;
  readonly ptimeMs: number;
  /** Samples (= timestamp ticks) per packet. */
  readonly samplesPerPacket: number;
  readonly #destination: { readonly address: string; readonly port: number };
  readonly #rtcpPort: number;
  readonly #encoder: AudioEncoder;
  readonly #cname: string;
  readonly #bindAddress: string | undefined;
  readonly #localPort: number;
  readonly #packet = new RtpPacket();
  #socket: Promise<dgram.Socket> | undefined;
  #closed = false;
  #sending = false;
  #byeSent = false;
  /** Datagrams handed to the socket and not yet sent: close() waits for them, or the last packets would be lost. */
  #inFlight = 0;
  #drained: (() => void) | undefined;

  #seq: number;
  #timestamp: number;
  #packetCount = 0;
  #octetCount = 0;
  #lastRtpTimestamp: number;

  constructor(options: RtpSenderOptions) {
    const ptime = options.ptimeMs ?? 20;
    const samplesPerPacket = (options.codec.clockRate * ptime) / 1000;
    if (!Number.isInteger(samplesPerPacket) || samplesPerPacket <= 0) {
      throw new RangeError(`ptime ${ptime} ms is not a whole number of samples at ${options.codec.clockRate} Hz`);
    }
    this.codec = options.codec;
    this.ptimeMs = ptime;
    this.samplesPerPacket = samplesPerPacket;
    this.ssrc = (options.ssrc ?? randomInt(1, 0xffffffff)) >>> 0;
    this.#seq = (options.initialSequenceNumber ?? randomInt(0, 0x10000)) & 0xffff;
    this.#timestamp = (options.initialTimestamp ?? randomInt(0, 0xffffffff)) >>> 0;
    this.#lastRtpTimestamp = this.#timestamp;
    this.#destination = options.destination;
    this.#rtcpPort = options.rtcpPort ?? options.destination.port + 1;
    this.#encoder = createEncoder(options.codec);
    this.#cname = options.cname ?? `sender@${this.ssrc}`;
    this.#bindAddress = options.bindAddress;
    this.#localPort = options.localPort ?? 0;
    this.#packet.setPayloadType(options.codec.payloadType);
    this.#packet.setSsrc(this.ssrc);
  }

  /** Next sequence number to be sent. */
  get sequenceNumber(): number {
    return this.#seq;
  }

  /** RTP timestamp of the next packet. */
  get timestamp(): number {
    return this.#timestamp;
  }

  /**
   * One-shot helper: sends `pcm` in real time, then BYE, then closes.
   */
  static async sendPcm(
    options: RtpSenderOptions & RtpSendOptions & { readonly pcm: Int16Array; readonly sampleRate: number },
  ): Promise<RtpSendResult> {
    const sender = new RtpSender(options);
    try {
      return await sender.send(options.pcm, options.sampleRate, { signal: options.signal, bye: options.bye ?? true });
    } finally {
      await sender.close();
    }
  }

  /**
   * Sends `pcm` (mono, at the codec's clock rate) paced in real time as
   * consecutive `ptime` packets; the last packet is padded with silence.
   * Rate conversion is the caller's job (sox, or audio/Resampler), so the
   * sender never degrades test audio behind anyone's back. Sequence numbers and timestamps continue
   * across calls; each call starts a talkspurt (marker bit on its first packet).
   *
   * @throws if another send() is in progress or the sender is closed;
   *   rejects with `signal.reason` when aborted.
   */
  async send(pcm: Int16Array, sampleRate: number, options: RtpSendOptions = {}): Promise<RtpSendResult> {
    if (this.#closed) throw new Error('RtpSender is closed');
    if (this.#sending) throw new Error('RtpSender is already sending');
    if (sampleRate !== this.codec.clockRate) {
      throw new RangeError(`PCM is at ${sampleRate} Hz but ${this.codec.name} is sent at ${this.codec.clockRate} Hz; resample first`);
    }
    const { signal } = options;
    signal?.throwIfAborted();
    this.#sending = true;
    try {
      const socket = await this.#getSocket();
      const audio = pcm;
      const spp = this.samplesPerPacket;
      const packets = Math.ceil(audio.length / spp);
      const frame = new Int16Array(spp);
      const start = performance.now();
      let sent = 0;
      let payloadBytes = 0;
      try {
        while (sent < packets) {
          signal?.throwIfAborted();
          const due = start + sent * this.ptimeMs;
          const wait = due - performance.now();
          if (wait > 1) await sleep(Math.floor(wait), undefined, { signal });
          // Send everything due now (catching up after a stall).
          const now = performance.now();
          while (sent < packets && start + sent * this.ptimeMs <= now + 1) {
            const offset = sent * spp;
            const chunk = audio.subarray(offset, Math.min(offset + spp, audio.length));
            frame.fill(0);
            frame.set(chunk);
            payloadBytes += this.#sendPacket(socket, frame, sent === 0);
            sent++;
          }
        }
      } catch (err) {
        if (signal?.aborted && options.bye) await this.sendBye(typeof options.bye === 'string' ? options.bye : undefined);
        throw signal?.aborted ? signal.reason : err;
      }
      const durationMs = performance.now() - start;
      if (options.bye) await this.sendBye(typeof options.bye === 'string' ? options.bye : undefined);
      return { packetsSent: sent, payloadBytesSent: payloadBytes, durationMs, ssrc: this.ssrc };
    } finally {
      this.#sending = false;
    }
  }

  /**
   * Sends the RTCP compound SR + SDES(CNAME) + BYE to the RTCP port
   * (RFC 3550 §6.1: compounds start with a report and carry a CNAME). Once.
   */
  async sendBye(reason?: string): Promise<void> {
    if (this.#closed || this.#byeSent) return;
    this.#byeSent = true;
    const socket = await this.#getSocket();
    const nowMs = Date.now();
    const sr = new SenderReportPacket();
    sr.setSsrc(this.ssrc);
    const seconds = Math.floor(nowMs / 1000);
    sr.setNtpSeconds((seconds + NTP_EPOCH_OFFSET_S) >>> 0);
    sr.setNtpFraction(Math.floor(((nowMs % 1000) / 1000) * 0x100000000) >>> 0);
    sr.setRtpTimestamp(this.#lastRtpTimestamp);
    sr.setPacketCount(this.#packetCount >>> 0);
    sr.setOctetCount(this.#octetCount >>> 0);
    const chunk = new SdesChunk();
    chunk.setSsrc(this.ssrc);
    chunk.addItem(CNAME_ITEM, this.#cname);
    const sdes = new SdesPacket();
    sdes.addChunk(chunk);
    const bye = new ByePacket();
    bye.addSsrc(this.ssrc);
    if (reason !== undefined) bye.setReason(reason);
    const compound = new CompoundPacket();
    compound.setPackets([sr, sdes, bye]);
    const view = compound.getView();
    await sendTo(socket, Buffer.from(view.buffer, view.byteOffset, view.byteLength), this.#rtcpPort, this.#destination.address);
  }

  /** Closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    const s = await socket.catch(() => undefined);
    if (!s) return;
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        setTimeout(resolve, 1000).unref();
      });
    }
    await new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  #sendPacket(socket: dgram.Socket, frame: Int16Array, marker: boolean): number {
    const payload = this.#encoder.encode(frame);
    const packet = this.#packet;
    // rtp.js header setters write into the packet's current buffer, which is
    // the one the previous packet was handed to send() in. Serialize into a
    // fresh buffer first so a datagram still queued is never rewritten.
    packet.setPayload(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
    packet.serialize();
    packet.setSequenceNumber(this.#seq);
    packet.setTimestamp(this.#timestamp);
    packet.setMarker(marker);
    const view = packet.getView();
    this.#inFlight++;
    socket.send(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), this.#destination.port, this.#destination.address, this.#onSent);
    this.#lastRtpTimestamp = this.#timestamp;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + frame.length) >>> 0;
    this.#packetCount++;
    this.#octetCount += payload.byteLength;
    return payload.byteLength;
  }

  readonly #onSent = (): void => {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#drained?.();
  };

  #getSocket(): Promise<dgram.Socket> {
    this.#socket ??= new Promise<dgram.Socket>((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind(this.#localPort, this.#bindAddress, () => {
        socket.removeListener('error', onError);
        // Asynchronous send errors (e.g. ICMP unreachable on some OSes) must not crash a test sender.
        socket.on('error', () => undefined);
        resolve(socket);
      });
    });
    return this.#socket;
  }

  /**
   * Sends one key press as RFC 4733 telephone-events, paced in real time: a
   * first packet (marker), an update every ptime with the growing duration,
   * then the end packet `endRepeats` times (§2.5.1.4), all with the RTP
   * timestamp of the press start. The audio timestamp then moves on by the
   * press duration (the sender's audio paused while the key was down).
   */
  async sendDtmf(digit: string, options: { durationMs?: number; payloadType?: number; endRepeats?: number; volume?: number } = {}): Promise<void> {
    if (this.#closed) throw new Error('RtpSender is closed');
    if (this.#sending) throw new Error('RtpSender is already sending');
    const event = '0123456789*#ABCD'.indexOf(digit.toUpperCase());
    if (digit.length !== 1 || event < 0) throw new RangeError(`'${digit}' is not a DTMF digit`);
    const durationTicks = Math.round(((options.durationMs ?? 100) * this.codec.clockRate) / 1000);
    const step = this.samplesPerPacket;
    const volume = (options.volume ?? 10) & 0x3f;
    const packet = new RtpPacket();
    packet.setPayloadType(options.payloadType ?? 101);
    packet.setSsrc(this.ssrc);
    const startTs = this.#timestamp;
    this.#sending = true;
    try {
      const socket = await this.#getSocket();
      const send = (duration: number, end: boolean, marker: boolean): void => {
        const payload = new Uint8Array([event, (end ? 0x80 : 0) | volume, (duration >> 8) & 0xff, duration & 0xff]);
        packet.setPayload(new DataView(payload.buffer));
        packet.serialize();
        packet.setSequenceNumber(this.#seq);
        packet.setTimestamp(startTs);
        packet.setMarker(marker);
        const view = packet.getView();
        this.#inFlight++;
        socket.send(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), this.#destination.port, this.#destination.address, this.#onSent);
        this.#seq = (this.#seq + 1) & 0xffff;
        this.#packetCount++;
        this.#octetCount += payload.byteLength;
      };
      let sent = 0;
      for (let duration = step; duration < durationTicks; duration += step) {
        send(Math.min(duration, 0xffff), false, sent === 0);
        sent++;
        await sleep(this.ptimeMs);
      }
      for (let i = 0; i < (options.endRepeats ?? 3); i++) send(Math.min(durationTicks, 0xffff), true, sent++ === 0);
      this.#lastRtpTimestamp = startTs;
      this.#timestamp = (startTs + durationTicks) >>> 0;
    } finally {
      this.#sending = false;
    }
  }

  /** Local port the sender's socket is bound to (binds on first use). */
  async localPort(): Promise<number> {
    const socket = await this.#getSocket();
    return socket.address().port;
  }
}

function sendTo(socket: dgram.Socket, data: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(data, port, address, (err) => (err ? reject(err) : resolve()));
  });
}
