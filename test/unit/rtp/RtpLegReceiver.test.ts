import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByePacket, CompoundPacket, ReceiverReportPacket, RtpPacket, SenderReportPacket } from 'rtp.js/packets';
import { createDecoder, type CodecSpec } from '../../../src/audio/codecs/index.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { PortAllocator, type PortLease } from '../../../src/ingest/rtp/PortAllocator.js';
import { RtpLegReceiver, type RtpAudioFrame, type RtpByeEvent } from '../../../src/ingest/rtp/RtpLegReceiver.js';
import { metricValue } from '../../helpers/metrics.js';

// This file owns ports 41100-41199.
const HOST = '127.0.0.1';
const PCMU: CodecSpec = { name: 'PCMU', clockRate: 8000, payloadType: 0 };
const L16: CodecSpec = { name: 'L16', clockRate: 16000, payloadType: 96 };
const allocator = new PortAllocator({ min: 41100, max: 41199, bindAddress: HOST });

interface Harness {
  receiver: RtpLegReceiver;
  lease: PortLease;
  metrics: GatewayMetrics;
  audio: RtpAudioFrame[];
  byes: RtpByeEvent[];
  activity: { count: number };
}

const open: Harness[] = [];
const clients: dgram.Socket[] = [];

async function harness(spec: CodecSpec = PCMU, extra: { reorderDepth?: number; idleFlushMs?: number } = {}): Promise<Harness> {
  const lease = await allocator.allocate();
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const receiver = new RtpLegReceiver({
    leg: 'customer',
    sockets: lease,
    decoder: createDecoder(spec),
    metrics,
    idleFlushMs: 0,
    // Latching on the first packet: these tests are about decoding, the jitter buffer and RTCP
    // (probation, takeover and expected sources: RtpSourceLatching.test.ts).
    probationPackets: 1,
    ...extra,
  });
  const h: Harness = { receiver, lease, metrics, audio: [], byes: [], activity: { count: 0 } };
  receiver.on('audio', (f) => h.audio.push(f));
  receiver.on('bye', (b) => h.byes.push(b));
  receiver.on('activity', () => h.activity.count++);
  open.push(h);
  return h;
}

async function client(address = HOST): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  clients.push(s);
  return s;
}

function send(socket: dgram.Socket, data: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, HOST, (err) => (err ? reject(err) : resolve())));
}

interface RtpFields {
  seq: number;
  ts?: number;
  ssrc?: number;
  pt?: number;
  payload?: Uint8Array;
}

function rtp({ seq, ts = seq * 160, ssrc = 0x11223344, pt = 0, payload = new Uint8Array(160).fill(0xff) }: RtpFields): Uint8Array {
  const p = new RtpPacket();
  p.setPayloadType(pt);
  p.setSequenceNumber(seq & 0xffff);
  p.setTimestamp(ts >>> 0);
  p.setSsrc(ssrc);
  p.setPayload(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
  const v = p.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** A PCMU payload whose every byte is `code`. */
function tone(code: number, n = 160): Uint8Array {
  return new Uint8Array(n).fill(code);
}

function byeCompound(ssrc: number, reason?: string): Uint8Array {
  const rr = new ReceiverReportPacket();
  rr.setSsrc(ssrc);
  const bye = new ByePacket();
  bye.addSsrc(ssrc);
  if (reason) bye.setReason(reason);
  const c = new CompoundPacket();
  c.setPackets([rr, bye]);
  const v = c.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.receiver.close();
    await h.lease.release();
  }
  for (const c of clients.splice(0)) c.close();
});

void describe('RtpLegReceiver', () => {
  void it('decodes valid packets in order and latches their source', async () => {
    const h = await harness();
    const c = await client();
    const latched: string[] = [];
    h.receiver.on('latched', (r, ssrc) => latched.push(`${r.address}:${r.port}/${ssrc}`));
    const codes = [0x80, 0x00, 0xff, 0x7e, 0xfe];
    for (let i = 0; i < codes.length; i++) await send(c, rtp({ seq: 100 + i, payload: tone(codes[i] ?? 0) }), h.lease.rtpPort);
    await waitFor('5 frames', () => h.audio.length === 5);
    assert.deepEqual(
      h.audio.map((f) => f.pcm[0]),
      [32124, -32124, 0, -8, 8],
    );
    for (const f of h.audio) {
      assert.equal(f.pcm.length, 160);
      assert.equal(f.sampleRate, 8000);
      assert.equal(f.concealed, false);
      assert.ok(Math.abs(f.receivedAt - Date.now()) < 5000);
    }
    assert.deepEqual(
      h.audio.map((f) => f.rtpTimestamp),
      [100, 101, 102, 103, 104].map((s) => s * 160),
    );
    const port = c.address().port;
    assert.deepEqual(h.receiver.remote, { address: HOST, port });
    assert.deepEqual(latched, [`${HOST}:${port}/${0x11223344}`]);
    const stats = h.receiver.stats;
    assert.equal(stats.packetsReceived, 5);
    assert.equal(stats.bytesReceived, 5 * 172);
    assert.equal(stats.packetsDropped, 0);
    assert.equal(stats.ssrc, 0x11223344);
    assert.equal(h.activity.count, 5);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_packets_received_total', { leg: 'customer' }), 5);
  });

  void it('drops truncated, garbage, wrong-version and unexpected-PT datagrams by reason, never throwing', async () => {
    const h = await harness();
    const c = await client();
    const port = h.lease.rtpPort;
    await send(c, rtp({ seq: 1 }), port);
    await waitFor('latch', () => h.audio.length === 1);

    const valid = rtp({ seq: 2, payload: tone(0x80, 8) });
    const malformed: [string, Uint8Array][] = [
      ['empty datagram', new Uint8Array(0)],
      ['1 byte', Uint8Array.of(0x80)],
      ['11 bytes (< fixed header)', valid.slice(0, 11)],
      ['garbage', Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0x3f)],
      ['version 1', Uint8Array.from(valid, (b, i) => (i === 0 ? (b & 0x3f) | 0x40 : b))],
      ['version 0', Uint8Array.from(valid, (b, i) => (i === 0 ? b & 0x3f : b))],
      // CC = 15 claims 60 bytes of CSRCs in a 20-byte datagram.
      ['CSRCs beyond the datagram', Uint8Array.from(valid, (b, i) => (i === 0 ? b | 0x0f : b))],
      // X bit with an extension header claiming 0xffff words.
      [
        'extension beyond the datagram',
        (() => {
          const b = Uint8Array.from(valid);
          b[0] = (b[0] ?? 0) | 0x10;
          b[12] = 0xbe;
          b[13] = 0xde;
          b[14] = 0xff;
          b[15] = 0xff;
          return b;
        })(),
      ],
      ['X bit without room for the extension header', Uint8Array.from(valid.slice(0, 13), (b, i) => (i === 0 ? b | 0x10 : b))],
      // P bit with a padding count larger than the payload.
      [
        'padding beyond the payload',
        (() => {
          const b = Uint8Array.from(valid);
          b[0] = (b[0] ?? 0) | 0x20;
          b[b.length - 1] = 200;
          return b;
        })(),
      ],
    ];
    for (const [, data] of malformed) await send(c, data, port);
    await send(c, rtp({ seq: 2, pt: 8 }), port); // PCMA on a PCMU leg
    await send(c, rtp({ seq: 3, pt: 13, payload: new Uint8Array(1) }), port); // comfort noise (RFC 3389)
    // Timestamp right after seq 1's audio: the other payloads took no time (else the gap is sender silence, filled).
    await send(c, rtp({ seq: 4, ts: 320, payload: tone(0x80) }), port);
    await waitFor('the packet after the junk', () => h.audio.length === 2);

    const stats = h.receiver.stats;
    assert.equal(stats.droppedByReason.malformed, malformed.length, JSON.stringify(stats.droppedByReason));
    assert.equal(stats.droppedByReason.unexpected_payload_type, 2);
    assert.equal(stats.packetsReceived, 2);
    assert.equal(stats.packetsLost, 0, 'other payload types of the stream are not loss');
    assert.equal(h.audio[1]?.pcm[0], 32124);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'malformed' }), malformed.length);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'unexpected_payload_type' }), 2);
  });

  void it('does not latch on an unexpected payload type or a malformed packet', async () => {
    const h = await harness();
    const stranger = await client();
    const caller = await client();
    await send(stranger, rtp({ seq: 1, pt: 8 }), h.lease.rtpPort);
    await send(stranger, Uint8Array.of(0x80, 0, 0), h.lease.rtpPort);
    await waitFor('drops', () => h.receiver.stats.packetsDropped === 2);
    const before = h.receiver.remote;
    assert.equal(before, undefined);
    await send(caller, rtp({ seq: 1 }), h.lease.rtpPort);
    await waitFor('audio', () => h.audio.length === 1);
    assert.equal(h.receiver.remote?.port, caller.address().port);
  });

  void it('drops a second source as foreign_source while the first one continues intact', async () => {
    const h = await harness();
    const caller = await client();
    const intruder = await client();
    const port = h.lease.rtpPort;
    for (let seq = 0; seq < 20; seq++) {
      await send(caller, rtp({ seq, payload: tone(0x80 + (seq % 8)) }), port);
      await send(intruder, rtp({ seq: seq + 1, ssrc: 0xdeadbeef, payload: tone(0x00) }), port);
    }
    await waitFor('20 frames', () => h.audio.length === 20);
    // An intruder's packet is held (it might start a takeover) until the latched source speaks again.
    await waitFor('19 foreign drops', () => h.receiver.stats.droppedByReason.foreign_source === 19);
    assert.equal(h.receiver.stats.packetsOnProbation, 1, 'the last intruder packet, sent after the last real one');
    await h.receiver.close();
    assert.equal(h.receiver.stats.droppedByReason.foreign_source, 20, 'given up when the leg ends');
    assert.equal(h.receiver.stats.packetsOnProbation, 0);
    assert.deepEqual(
      h.audio.map((f) => f.pcm[0]),
      Array.from({ length: 20 }, (_, seq) => createDecoder(PCMU).decode(Uint8Array.of(0x80 + (seq % 8)))[0]),
    );
    assert.ok(h.audio.every((f) => !f.concealed));
    assert.equal(h.receiver.stats.packetsLost, 0);
    assert.equal(h.receiver.remote?.port, caller.address().port);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'foreign_source' }), 20);
  });

  void it('fills a lost packet with silence of its duration and counts it', async () => {
    const h = await harness(PCMU, { reorderDepth: 2 });
    const c = await client();
    for (const seq of [10, 11, 13, 14, 15]) await send(c, rtp({ seq, payload: tone(0x80) }), h.lease.rtpPort);
    await waitFor('6 frames', () => h.audio.length === 6);
    assert.deepEqual(
      h.audio.map((f) => [f.rtpTimestamp, f.pcm.length, f.concealed]),
      [
        [1600, 160, false],
        [1760, 160, false],
        [1920, 160, true],
        [2080, 160, false],
        [2240, 160, false],
        [2400, 160, false],
      ],
    );
    assert.ok(h.audio[2]?.pcm.every((s) => s === 0));
    assert.equal(h.receiver.stats.packetsLost, 1);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_packets_lost_total'), 1);
  });

  void it('reorders packets and drops duplicates', async () => {
    const h = await harness();
    const c = await client();
    for (const seq of [1, 3, 2, 2, 4]) await send(c, rtp({ seq, payload: tone(seq) }), h.lease.rtpPort);
    await waitFor('4 frames', () => h.audio.length === 4);
    await waitFor('duplicate', () => h.receiver.stats.droppedByReason.duplicate === 1);
    assert.deepEqual(
      h.audio.map((f) => f.rtpTimestamp / 160),
      [1, 2, 3, 4],
    );
  });

  void it('releases held packets after idleFlushMs without new traffic', async () => {
    const h = await harness(PCMU, { idleFlushMs: 30 });
    const c = await client();
    await send(c, rtp({ seq: 1 }), h.lease.rtpPort);
    await send(c, rtp({ seq: 3 }), h.lease.rtpPort);
    await waitFor('flush', () => h.audio.length === 3);
    assert.deepEqual(
      h.audio.map((f) => f.concealed),
      [false, true, false],
    );
  });

  void it('decodes L16 big-endian and drops odd-length L16 payloads as malformed', async () => {
    const h = await harness(L16);
    const c = await client();
    await send(c, rtp({ seq: 1, ts: 0, pt: 96, payload: Uint8Array.of(0x01, 0x02, 0xff, 0xfe) }), h.lease.rtpPort);
    await send(c, rtp({ seq: 2, ts: 2, pt: 96, payload: Uint8Array.of(0x01, 0x02, 0x03) }), h.lease.rtpPort);
    await send(c, rtp({ seq: 3, ts: 3, pt: 96, payload: Uint8Array.of(0x7f, 0xff) }), h.lease.rtpPort);
    await waitFor('frames', () => h.audio.length === 3);
    assert.deepEqual(Array.from(h.audio[0]?.pcm ?? []), [0x0102, -2]);
    assert.equal(h.audio[0]?.sampleRate, 16000);
    // The torn packet's slot becomes silence (1 sample), not a stall or a loss.
    assert.deepEqual(
      h.audio.map((f) => [f.pcm.length, f.concealed]),
      [
        [2, false],
        [1, true],
        [1, false],
      ],
    );
    assert.equal(h.audio[2]?.pcm[0], 32767);
    assert.equal(h.receiver.stats.droppedByReason.malformed, 1);
    assert.equal(h.receiver.stats.packetsLost, 0);
  });

  void it('follows a new SSRC from the latched source', async () => {
    const h = await harness();
    const c = await client();
    await send(c, rtp({ seq: 500, ssrc: 1 }), h.lease.rtpPort);
    await send(c, rtp({ seq: 7, ssrc: 2 }), h.lease.rtpPort);
    await send(c, rtp({ seq: 501, ssrc: 1 }), h.lease.rtpPort); // straggler of the old stream
    await send(c, rtp({ seq: 8, ssrc: 2 }), h.lease.rtpPort);
    await waitFor('3 frames', () => h.audio.length === 3);
    assert.deepEqual(
      h.audio.map((f) => f.rtpTimestamp / 160),
      [500, 7, 8],
    );
    assert.equal(h.receiver.ssrc, 2);
    assert.equal(h.receiver.stats.droppedByReason.late, 1);
    assert.equal(h.receiver.stats.packetsLost, 0);
  });

  void it('emits bye on RTCP BYE to port + 1 and counts RTCP packets by type', async () => {
    const h = await harness();
    const c = await client();
    await send(c, rtp({ seq: 1, ssrc: 0xabc }), h.lease.rtpPort);
    await waitFor('latch', () => h.receiver.remote !== undefined);
    const sr = new SenderReportPacket();
    sr.setSsrc(0xabc);
    const srView = sr.getView();
    await send(c, new Uint8Array(srView.buffer, srView.byteOffset, srView.byteLength), h.lease.rtcpPort);
    await send(c, Uint8Array.of(1, 2, 3), h.lease.rtcpPort); // junk on the RTCP port
    await send(c, Uint8Array.of(0x81, 203, 0, 9, 0, 0), h.lease.rtcpPort); // BYE claiming 40 bytes in 6
    await send(c, byeCompound(0xabc, 'hangup'), h.lease.rtcpPort);
    await waitFor('bye', () => h.byes.length === 1);
    assert.deepEqual(h.byes[0]?.ssrcs, [0xabc]);
    assert.equal(h.byes[0]?.reason, 'hangup');
    assert.equal(h.byes[0]?.from.port, c.address().port);
    await send(c, byeCompound(0xabc), h.lease.rtcpPort);
    await waitFor('second compound counted', () => h.receiver.stats.rtcpPacketsReceived === 5);
    assert.equal(h.byes.length, 1, 'bye is emitted once');
    assert.equal(h.receiver.stats.droppedByReason.malformed, 2);
    assert.equal(await metricValue(h.metrics, 'sgw_rtcp_packets_received_total', { type: 'sr' }), 1);
    assert.equal(await metricValue(h.metrics, 'sgw_rtcp_packets_received_total', { type: 'rr' }), 2);
    assert.equal(await metricValue(h.metrics, 'sgw_rtcp_packets_received_total', { type: 'bye' }), 2);
  });

  void it('accepts RTCP multiplexed on the RTP port (rtcp-mux)', async () => {
    const h = await harness();
    const c = await client();
    await send(c, rtp({ seq: 1, ssrc: 0xabc }), h.lease.rtpPort);
    await send(c, byeCompound(0xabc), h.lease.rtpPort);
    await waitFor('bye', () => h.byes.length === 1);
    assert.equal(h.receiver.stats.packetsDropped, 0);
    assert.equal(h.receiver.stats.packetsReceived, 1);
  });

  // 127.0.0.0/8 is all loopback on Linux, so 127.0.0.2 is a second local host.
  void it('takes a BYE only from the latched address and port pair, whatever SSRC a forged one names', async () => {
    const h = await harness();
    const c = await client();
    const otherHost = await client('127.0.0.2');
    const otherPort = await client();
    await send(c, rtp({ seq: 1, ssrc: 0xabc }), h.lease.rtpPort);
    await waitFor('latch', () => h.receiver.remote !== undefined);
    await send(otherHost, byeCompound(0x999), h.lease.rtcpPort);
    // The SSRC is in the clear in every RTP packet: naming it proves nothing.
    await send(otherHost, byeCompound(0xabc), h.lease.rtcpPort);
    await send(otherPort, byeCompound(0xabc), h.lease.rtcpPort); // the source's address, another port
    await send(otherPort, byeCompound(0xabc), h.lease.rtpPort); // the same, muxed
    await waitFor('4 foreign drops', () => h.receiver.stats.droppedByReason.foreign_source === 4);
    assert.equal(h.byes.length, 0);
    await send(c, byeCompound(0xabc), h.lease.rtcpPort);
    await waitFor('bye', () => h.byes.length === 1);
    assert.deepEqual(h.byes[0]?.from, { address: HOST, port: c.address().port });
  });

  void it('ignores a BYE before any RTP was latched', async () => {
    const h = await harness();
    const c = await client();
    await send(c, byeCompound(0xabc), h.lease.rtcpPort);
    await waitFor('rtcp counted', () => h.receiver.stats.rtcpPacketsReceived === 2);
    assert.equal(h.byes.length, 0);
  });

  void it('close() flushes held audio, is idempotent, and ignores later packets', async () => {
    const h = await harness(PCMU, { reorderDepth: 4 });
    const c = await client();
    await send(c, rtp({ seq: 1 }), h.lease.rtpPort);
    await send(c, rtp({ seq: 3 }), h.lease.rtpPort);
    await waitFor('two packets', () => h.receiver.stats.packetsReceived === 2);
    assert.equal(h.audio.length, 1);
    let closes = 0;
    h.receiver.on('close', () => closes++);
    const first = h.receiver.close();
    const second = h.receiver.close();
    assert.equal(first, second);
    await first;
    await h.receiver.close();
    assert.equal(closes, 1);
    assert.equal(h.receiver.closed, true);
    assert.deepEqual(
      h.audio.map((f) => f.concealed),
      [false, true, false],
    );
    await send(c, rtp({ seq: 4 }), h.lease.rtpPort);
    await sleep(30);
    assert.equal(h.audio.length, 3);
    assert.equal(h.receiver.stats.packetsReceived, 2);
    // The pair goes back to the allocator once released.
    await h.lease.release();
  });
});
