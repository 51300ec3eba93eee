/**
 * Who gets an RTP leg, on real UDP sockets: a forged datagram before the
 * PBX's media or in the middle of the call never takes it; the PBX moving to
 * a new socket (NAT rebinding, SBC failover) keeps the rest of the call under
 * the default policy and is refused under `strict`; an expected source
 * filters everything else.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByePacket, CompoundPacket, RtpPacket } from 'rtp.js/packets';
import { createDecoder, type CodecSpec } from '../../../src/audio/codecs/index.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { PortAllocator, type PortLease } from '../../../src/ingest/rtp/PortAllocator.js';
import { RtpLegReceiver, type RemoteAddress, type RtpAudioFrame, type RtpLegReceiverOptions } from '../../../src/ingest/rtp/RtpLegReceiver.js';
import { PROBATION_PACKETS } from '../../../src/ingest/rtp/SourceLatch.js';
import { metricValue } from '../../helpers/metrics.js';
import { udpPeers } from '../../helpers/udp.js';

// This file owns ports 47400-47499.
const HOST = '127.0.0.1';
const PCMU: CodecSpec = { name: 'PCMU', clockRate: 8000, payloadType: 0 };
const allocator = new PortAllocator({ min: 47400, max: 47499, bindAddress: HOST });

interface Harness {
  receiver: RtpLegReceiver;
  lease: PortLease;
  metrics: GatewayMetrics;
  audio: RtpAudioFrame[];
  latches: { remote: RemoteAddress; previous: RemoteAddress | undefined }[];
  byes: number;
}

const open: Harness[] = [];

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.receiver.close();
    await h.lease.release();
  }
  closeAll();
});

async function harness(options: Partial<Pick<RtpLegReceiverOptions, 'sourcePolicy' | 'expectedSource'>> = {}): Promise<Harness> {
  const lease = await allocator.allocate();
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const receiver = new RtpLegReceiver({ leg: 'customer', sockets: lease, decoder: createDecoder(PCMU), metrics, ...options });
  const h: Harness = { receiver, lease, metrics, audio: [], latches: [], byes: 0 };
  receiver.on('audio', (f) => h.audio.push(f));
  receiver.on('latched', (remote, _ssrc, previous) => h.latches.push({ remote, previous }));
  receiver.on('bye', () => h.byes++);
  open.push(h);
  return h;
}

const { socket, send, pace, closeAll } = udpPeers(HOST);

function remoteOf(s: dgram.Socket): RemoteAddress {
  const { address, port } = s.address();
  return { address, port };
}

/** One RTP stream's state: what its next packet carries. */
interface Stream {
  ssrc: number;
  seq: number;
  ts: number;
}

function packet(stream: Stream, code = 0x80): Uint8Array {
  const p = new RtpPacket();
  p.setPayloadType(0);
  p.setSequenceNumber(stream.seq & 0xffff);
  p.setTimestamp(stream.ts >>> 0);
  p.setSsrc(stream.ssrc);
  const payload = new Uint8Array(160).fill(code);
  p.setPayload(new DataView(payload.buffer));
  const v = p.getView();
  stream.seq = (stream.seq + 1) & 0xffff;
  stream.ts = (stream.ts + 160) >>> 0;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** Sends `count` packets of the stream from `from`, paced at 20 ms as a PBX does. */
const play = (from: dgram.Socket, port: number, stream: Stream, count: number): Promise<number> => pace(from, port, count, () => packet(stream));

/** Back to back, as a forger would. */
async function burst(from: dgram.Socket, port: number, stream: Stream, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await send(from, packet(stream, 0x00), port);
}

function bye(ssrc: number): Uint8Array {
  const b = new ByePacket();
  b.addSsrc(ssrc);
  const c = new CompoundPacket();
  c.setPackets([b]);
  const v = c.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const dropped = (h: Harness, reason: string) => metricValue(h.metrics, 'sgw_rtp_packets_dropped_total', { reason });

void describe('RTP source latching', () => {
  void it('a forged datagram (or a run one short of probation) before the PBX media does not capture the leg; every PBX packet is received', async () => {
    const h = await harness();
    const forger = await socket();
    const pbx = await socket();
    // Even with the PBX's SSRC and a plausible sequence number.
    await burst(forger, h.lease.rtpPort, { ssrc: 0x5eed, seq: 100, ts: 0 }, 1);
    await burst(forger, h.lease.rtpPort, { ssrc: 0x5eed, seq: 900, ts: 0 }, PROBATION_PACKETS - 1);
    await waitFor('the forged packets held', () => h.receiver.stats.packetsOnProbation === PROBATION_PACKETS);
    assert.equal(h.receiver.remote, undefined, 'not latched by the forger');
    assert.equal(h.audio.length, 0, 'nothing of the forger reached the leg');

    const sent = await play(pbx, h.lease.rtpPort, { ssrc: 0x5eed, seq: 101, ts: 16_000 }, 25);
    await waitFor('every PBX packet', () => h.receiver.stats.packetsReceived === sent);
    assert.deepEqual(h.receiver.remote, remoteOf(pbx));
    assert.deepEqual(h.latches, [{ remote: remoteOf(pbx), previous: undefined }]);
    assert.equal(h.audio.length, sent, 'the probation packets were replayed, not lost');
    assert.ok(h.audio.every((f) => !f.concealed && f.pcm[0] === 32124), 'only the PBX tone, no forged audio');
    assert.equal(h.receiver.stats.packetsLost, 0);
    assert.equal(h.receiver.stats.droppedByReason.foreign_source, PROBATION_PACKETS, 'the forged datagrams, dropped once the PBX latched');
    assert.equal(await dropped(h, 'foreign_source'), PROBATION_PACKETS);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_source_latches_total', { kind: 'first' }), 1);
    console.log(`# before the media: ${PROBATION_PACKETS} forged datagrams dropped, ${h.receiver.stats.packetsReceived} of ${sent} PBX packets received`);
  });

  void it('forged datagrams mid-call, single or a burst, do not take the leg while the PBX streams', async () => {
    const h = await harness();
    const forger = await socket();
    const pbx = await socket();
    const stream: Stream = { ssrc: 0xa1, seq: 4000, ts: 0 };
    const playing = play(pbx, h.lease.rtpPort, stream, 40);
    await waitFor('the PBX latched', () => h.receiver.remote !== undefined);
    // One datagram continuing the PBX's own stream, then a steady in-sequence burst.
    await send(forger, packet({ ...stream }), h.lease.rtpPort);
    await burst(forger, h.lease.rtpPort, { ssrc: 0xbad, seq: 1, ts: 0 }, 20);
    const sent = await playing;
    await waitFor('every PBX packet', () => h.receiver.stats.packetsReceived === sent);
    await waitFor('the forged ones dropped', () => h.receiver.stats.droppedByReason.foreign_source === 21);
    assert.deepEqual(h.receiver.remote, remoteOf(pbx));
    assert.equal(h.receiver.stats.sourceTakeovers, 0);
    assert.equal(h.receiver.stats.packetsLost, 0);
    assert.ok(h.audio.every((f) => f.pcm[0] === 32124), 'no forged audio');
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_source_latches_total', { kind: 'takeover' }), 0);
    console.log(`# mid-call: 21 forged datagrams dropped, ${h.receiver.stats.packetsReceived} of ${sent} PBX packets received`);
  });

  for (const change of ['NAT rebinding (same stream)', 'SBC failover (new SSRC)'] as const) {
    void it(`keeps the rest of the call when the PBX moves to a new socket: ${change}`, async () => {
      const h = await harness();
      const before = await socket();
      const after = await socket();
      const stream: Stream = { ssrc: 0xc0ffee, seq: 65_500, ts: 1000 };
      const sentBefore = await play(before, h.lease.rtpPort, stream, 25);
      await waitFor('the first socket latched', () => h.receiver.stats.packetsReceived === sentBefore);
      const next: Stream = change === 'SBC failover (new SSRC)' ? { ssrc: 0xfa11, seq: 7, ts: 99_999 } : stream;
      const sentAfter = await play(after, h.lease.rtpPort, next, 50);
      await waitFor('every packet after the change', () => h.receiver.stats.packetsReceived === sentBefore + sentAfter);
      assert.deepEqual(h.receiver.remote, remoteOf(after));
      assert.deepEqual(h.latches, [
        { remote: remoteOf(before), previous: undefined },
        { remote: remoteOf(after), previous: remoteOf(before) },
      ]);
      assert.equal(h.receiver.stats.sourceTakeovers, 1);
      assert.equal(h.receiver.stats.packetsLost, 0);
      assert.equal(h.receiver.stats.packetsDropped, 0);
      assert.equal(h.receiver.stats.ssrcChanges, change === 'SBC failover (new SSRC)' ? 1 : 0);
      assert.equal(h.audio.filter((f) => !f.concealed).length, sentBefore + sentAfter, 'every packet became audio');
      assert.equal(await metricValue(h.metrics, 'sgw_rtp_source_latches_total', { kind: 'takeover' }), 1);
      console.log(`# ${change}: ${sentAfter} packets sent after the change, ${h.receiver.stats.packetsReceived - sentBefore} received`);
    });
  }

  void it('a flood of in-sequence packets does not take over a silent leg; a real-time stream does', async () => {
    const h = await harness();
    const pbx = await socket();
    const flooder = await socket();
    const failover = await socket();
    const sent = await play(pbx, h.lease.rtpPort, { ssrc: 0xf1, seq: 1, ts: 0 }, 10);
    await waitFor('latched', () => h.receiver.stats.packetsReceived === sent);
    // The PBX is silent now. 1,500 packets in 300 ms: one SSRC, consecutive, 50 times real time.
    const flood: Stream = { ssrc: 0xf100d, seq: 1, ts: 0 };
    for (let round = 0; round < 30; round++) {
      await burst(flooder, h.lease.rtpPort, flood, 50);
      await sleep(10);
    }
    await waitFor('the flood read', () => h.receiver.stats.droppedByReason.foreign_source + h.receiver.stats.packetsOnProbation === 1500);
    assert.deepEqual(h.receiver.remote, remoteOf(pbx), 'the flood did not take the leg');
    assert.equal(h.receiver.stats.packetsReceived, sent);
    assert.ok(h.receiver.stats.packetsOnProbation <= 32, 'what is held for it is bounded');
    const moved = await play(failover, h.lease.rtpPort, { ssrc: 0xf2, seq: 1, ts: 0 }, 25);
    await waitFor('the real-time stream took over', () => h.receiver.stats.packetsReceived === sent + moved);
    assert.deepEqual(h.receiver.remote, remoteOf(failover));
    assert.equal(h.receiver.stats.droppedByReason.foreign_source, 1500, 'every flood packet dropped once the new source latched');
  });

  void it('strict policy: the first source keeps the leg, a new one is dropped however steady', async () => {
    const h = await harness({ sourcePolicy: 'strict' });
    const before = await socket();
    const after = await socket();
    const stream: Stream = { ssrc: 0x51, seq: 10, ts: 0 };
    const sentBefore = await play(before, h.lease.rtpPort, stream, 10);
    await waitFor('latched', () => h.receiver.stats.packetsReceived === sentBefore);
    const sentAfter = await play(after, h.lease.rtpPort, stream, 25);
    await waitFor('the new source dropped', () => h.receiver.stats.droppedByReason.foreign_source === sentAfter);
    assert.deepEqual(h.receiver.remote, remoteOf(before));
    assert.equal(h.receiver.stats.sourceTakeovers, 0);
    assert.equal(h.receiver.stats.packetsReceived, sentBefore);
    assert.equal(h.receiver.stats.packetsOnProbation, 0, 'strict holds nothing');
  });

  void it('expected address and port: any other source is unexpected_source and never latches, however steady', async () => {
    const pbx = await socket();
    const h = await harness({ expectedSource: remoteOf(pbx) });
    const samePort = await socket(); // the PBX's address, another port
    const otherHost = await socket('127.0.0.2');
    await burst(samePort, h.lease.rtpPort, { ssrc: 1, seq: 1, ts: 0 }, 20);
    await burst(otherHost, h.lease.rtpPort, { ssrc: 2, seq: 1, ts: 0 }, 20);
    await send(otherHost, bye(2), h.lease.rtcpPort);
    await waitFor('dropped', () => h.receiver.stats.droppedByReason.unexpected_source === 41);
    assert.equal(h.receiver.remote, undefined);
    assert.equal(h.receiver.stats.packetsOnProbation, 0, 'nothing held for them');
    const sent = await play(pbx, h.lease.rtpPort, { ssrc: 3, seq: 1, ts: 0 }, 10);
    await waitFor('the PBX received', () => h.receiver.stats.packetsReceived === sent);
    assert.deepEqual(h.receiver.remote, remoteOf(pbx));
    assert.equal(await dropped(h, 'unexpected_source'), 41);
    assert.equal(h.audio.length, sent);
  });

  void it('expected address alone: another port of it may latch (and take over); another address may not', async () => {
    const h = await harness({ expectedSource: { address: HOST } });
    const otherHost = await socket('127.0.0.2');
    const first = await socket();
    const second = await socket();
    await burst(otherHost, h.lease.rtpPort, { ssrc: 2, seq: 1, ts: 0 }, 10);
    const stream: Stream = { ssrc: 7, seq: 1, ts: 0 };
    const a = await play(first, h.lease.rtpPort, stream, 10);
    const b = await play(second, h.lease.rtpPort, stream, 25);
    await waitFor('both sockets received', () => h.receiver.stats.packetsReceived === a + b);
    assert.equal(h.receiver.stats.droppedByReason.unexpected_source, 10);
    assert.deepEqual(h.receiver.remote, remoteOf(second));
    assert.equal(h.receiver.stats.sourceTakeovers, 1);
  });

  void it('a forged RTCP BYE from another socket is dropped and the leg goes on; the latched source\'s BYE ends it', async () => {
    const h = await harness();
    const pbx = await socket();
    const forger = await socket();
    const stream: Stream = { ssrc: 0xb7e, seq: 1, ts: 0 };
    await play(pbx, h.lease.rtpPort, stream, 8);
    await waitFor('latched', () => h.receiver.remote !== undefined);
    await send(forger, bye(0xb7e), h.lease.rtcpPort);
    await send(forger, bye(0xb7e), h.lease.rtpPort);
    await waitFor('forged BYEs dropped', () => h.receiver.stats.droppedByReason.foreign_source === 2);
    assert.equal(h.byes, 0);
    await play(pbx, h.lease.rtpPort, stream, 2);
    await waitFor('the leg goes on', () => h.receiver.stats.packetsReceived === 10);
    await send(pbx, bye(0xb7e), h.lease.rtcpPort); // symmetric RTCP: from the RTP socket
    await waitFor('bye', () => h.byes === 1);
  });
});
