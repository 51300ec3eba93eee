import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompoundPacket, ReceiverReportPacket, RtpPacket, SenderReportPacket } from 'rtp.js/packets';
import { createDecoder, type CodecSpec } from '../../../src/audio/codecs/index.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { PortAllocator } from '../../../src/ingest/rtp/PortAllocator.js';
import { RtpLegReceiver, type RtpAudioFrame } from '../../../src/ingest/rtp/RtpLegReceiver.js';
import { RtpSender } from '../../../src/ingest/rtp/RtpSender.js';
import type { TelephoneEventPress } from '../../../src/ingest/rtp/TelephoneEvents.js';
import { metricValue } from '../../helpers/metrics.js';

// This file owns ports 43680-43699.
const HOST = '127.0.0.1';
const allocator = new PortAllocator({ min: 43680, max: 43699, bindAddress: HOST });
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function receiver(spec: CodecSpec) {
  const lease = await allocator.allocate();
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  // Latching on the first packet: these tests are about DTMF (probation: RtpSourceLatching.test.ts).
  const r = new RtpLegReceiver({ leg: 'customer', sockets: lease, decoder: createDecoder(spec), metrics, idleFlushMs: 0, probationPackets: 1 });
  const audio: RtpAudioFrame[] = [];
  const dtmf: TelephoneEventPress[] = [];
  r.on('audio', (f) => audio.push(f));
  r.on('dtmf', (p) => dtmf.push(p));
  cleanup.push(async () => {
    await r.close();
    await lease.release();
  });
  return { r, lease, metrics, audio, dtmf };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function rtp(seq: number, ts: number, pt: number, payload: Uint8Array, ssrc = 0x1234): Uint8Array {
  const p = new RtpPacket();
  p.setPayloadType(pt);
  p.setSequenceNumber(seq & 0xffff);
  p.setTimestamp(ts >>> 0);
  p.setSsrc(ssrc);
  p.setPayload(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
  const v = p.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

async function udpClient(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
  cleanup.push(() => new Promise((resolve) => s.close(() => resolve())));
  return s;
}

void describe('RtpLegReceiver: DTMF, G.722 timing, RTCP reports', () => {
  void it('turns RtpSender telephone-events into one dtmf event per press, amid audio, without loss', async () => {
    const spec: CodecSpec = { name: 'PCMU', clockRate: 8000, payloadType: 0 };
    const h = await receiver(spec);
    const sender = new RtpSender({ codec: spec, destination: { address: HOST, port: h.lease.rtpPort } });
    cleanup.push(() => sender.close());
    await sender.send(new Int16Array(1600), 8000);
    await sender.sendDtmf('4', { durationMs: 120 });
    await sender.sendDtmf('#', { durationMs: 60 });
    await sender.send(new Int16Array(1600), 8000);
    await waitFor('two presses', () => h.dtmf.length === 2);
    await sleep(50);
    assert.deepEqual(h.dtmf.map((p) => [p.digit, p.durationMs]), [['4', 120], ['#', 60]]);
    const stats = h.r.stats;
    assert.equal(stats.dtmfPresses, 2);
    assert.equal(stats.packetsLost, 0);
    assert.equal(stats.droppedByReason.unexpected_payload_type, 0);
    // The audio clock paused for the presses: filled as sender silence, so the timeline holds 180 ms more.
    const samples = h.audio.reduce((n, f) => n + f.pcm.length, 0);
    assert.equal(samples, 3200 + 960 + 480);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_telephone_events_total', { outcome: 'digit' }), 2);
    assert.equal(await metricValue(h.metrics, 'sgw_rtp_telephone_events_total', { outcome: 'redundant' }), 4);
  });

  void it('honours a negotiated telephone-event payload type', async () => {
    const h = await receiver({ name: 'PCMA', clockRate: 8000, payloadType: 8, telephoneEventPayloadType: 110 });
    const c = await udpClient();
    c.send(rtp(1, 0, 8, new Uint8Array(160).fill(0xd5)), h.lease.rtpPort, HOST);
    c.send(rtp(2, 160, 101, Uint8Array.of(1, 0x8a, 0, 160)), h.lease.rtpPort, HOST); // 101 is not DTMF here
    c.send(rtp(3, 160, 110, Uint8Array.of(7, 0x8a, 0, 160)), h.lease.rtpPort, HOST);
    await waitFor('press', () => h.dtmf.length === 1);
    assert.equal(h.dtmf[0]?.digit, '7');
    assert.equal(h.r.stats.droppedByReason.unexpected_payload_type, 1);
  });

  void it('G.722: a 160-byte packet is 20 ms = 320 samples at 16 kHz, and a lost one is 320 samples of silence', async () => {
    const h = await receiver({ name: 'G722', clockRate: 8000, payloadType: 9 });
    const c = await udpClient();
    const payload = new Uint8Array(160).fill(0xfa);
    for (const seq of [1, 2, 4, 5, 6, 7, 8]) c.send(rtp(seq, seq * 160, 9, payload), h.lease.rtpPort, HOST);
    await waitFor('frames', () => h.audio.length === 8);
    assert.deepEqual(
      h.audio.map((f) => [f.pcm.length, f.sampleRate, f.concealed]),
      [[320, 16000, false], [320, 16000, false], [320, 16000, true], [320, 16000, false], [320, 16000, false], [320, 16000, false], [320, 16000, false], [320, 16000, false]],
    );
    assert.equal(h.r.stats.packetsLost, 1);
    assert.ok((await metricValue(h.metrics, 'sgw_rtp_concealed_seconds_total', { cause: 'loss' })) > 0.019);
  });

  void it('counts RTCP sender and receiver reports from the source', async () => {
    const h = await receiver({ name: 'PCMU', clockRate: 8000, payloadType: 0 });
    const c = await udpClient();
    c.send(rtp(1, 0, 0, new Uint8Array(160)), h.lease.rtpPort, HOST);
    await waitFor('latch', () => h.audio.length === 1);
    const sr = new SenderReportPacket();
    sr.setSsrc(0x1234);
    const rr = new ReceiverReportPacket();
    rr.setSsrc(0x1234);
    const compound = new CompoundPacket();
    compound.setPackets([sr]);
    const a = compound.getView();
    c.send(new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice(), h.lease.rtcpPort, HOST);
    compound.setPackets([rr]);
    const b = compound.getView();
    c.send(new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice(), h.lease.rtcpPort, HOST);
    await waitFor('reports', () => h.r.stats.rtcpReceiverReports === 1 && h.r.stats.rtcpSenderReports === 1);
    assert.equal(await metricValue(h.metrics, 'sgw_rtcp_packets_received_total', { type: 'sr' }), 1);
    assert.equal(await metricValue(h.metrics, 'sgw_rtcp_packets_received_total', { type: 'rr' }), 1);
  });
});

void describe('RtpLegReceiver: telephone-events under their own SSRC', () => {
  void it('reads them without switching the audio stream away', async () => {
    const h = await receiver({ name: 'PCMU', clockRate: 8000, payloadType: 0 });
    const c = await udpClient();
    const audio = new Uint8Array(160).fill(0xff);
    c.send(rtp(1, 0, 0, audio, 0xaaaa), h.lease.rtpPort, HOST);
    c.send(rtp(500, 77, 101, Uint8Array.of(9, 0x8a, 0, 160), 0xbbbb), h.lease.rtpPort, HOST);
    c.send(rtp(2, 160, 0, audio, 0xaaaa), h.lease.rtpPort, HOST);
    c.send(rtp(3, 320, 0, audio, 0xaaaa), h.lease.rtpPort, HOST);
    await waitFor('audio and press', () => h.audio.length === 3 && h.dtmf.length === 1);
    assert.equal(h.dtmf[0]?.digit, '9');
    assert.equal(h.r.stats.ssrc, 0xaaaa);
    assert.equal(h.r.stats.ssrcChanges, 0);
    assert.equal(h.r.stats.packetsDropped, 0);
  });
});
