import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByePacket, CompoundPacket, RtpPacket, SdesPacket, SenderReportPacket } from 'rtp.js/packets';
import { createDecoder, encodeUlaw, type CodecSpec } from '../../../src/audio/codecs/index.js';
import { PortAllocator } from '../../../src/ingest/rtp/PortAllocator.js';
import { RtpLegReceiver, type RtpAudioFrame } from '../../../src/ingest/rtp/RtpLegReceiver.js';
import { RtpSender } from '../../../src/ingest/rtp/RtpSender.js';

// This file owns ports 41200-41299.
const HOST = '127.0.0.1';
const PCMU: CodecSpec = { name: 'PCMU', clockRate: 8000, payloadType: 0 };
const L16: CodecSpec = { name: 'L16', clockRate: 16000, payloadType: 97 };
const allocator = new PortAllocator({ min: 41200, max: 41299, bindAddress: HOST });

interface Captured {
  data: Uint8Array;
  at: number;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function capture(): Promise<{ port: number; got: Captured[] }> {
  const s = dgram.createSocket('udp4');
  const got: Captured[] = [];
  s.on('message', (msg) => got.push({ data: new Uint8Array(msg), at: performance.now() }));
  await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
  cleanup.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return { port: s.address().port, got };
}

function parseRtp(data: Uint8Array): RtpPacket {
  return new RtpPacket(new DataView(data.buffer, data.byteOffset, data.byteLength));
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function sine(samples: number, rate: number, hz = 440, amplitude = 12000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * amplitude));
}

void describe('RtpSender', () => {
  void it('builds correct RTP: sequence (with wrap), timestamps, SSRC, marker, padded last packet, then SR+SDES+BYE', async () => {
    const rtp = await capture();
    const rtcp = await capture();
    const sender = new RtpSender({
      codec: PCMU,
      destination: { address: HOST, port: rtp.port },
      rtcpPort: rtcp.port,
      ssrc: 0xcafebabe,
      initialSequenceNumber: 65533,
      initialTimestamp: 0xffffff00,
      cname: 'pbx@test',
    });
    cleanup.push(() => sender.close());
    const pcm = sine(160 * 5 + 40, 8000);
    const result = await sender.send(pcm, 8000, { bye: 'call ended' });
    assert.equal(result.packetsSent, 6);
    assert.equal(result.payloadBytesSent, 6 * 160);
    assert.equal(result.ssrc, 0xcafebabe);
    await waitFor('6 RTP packets', () => rtp.got.length === 6);
    await waitFor('RTCP', () => rtcp.got.length === 1);

    const packets = rtp.got.map((g) => parseRtp(g.data));
    assert.deepEqual(
      packets.map((p) => p.getSequenceNumber()),
      [65533, 65534, 65535, 0, 1, 2],
    );
    assert.deepEqual(
      packets.map((p) => p.getTimestamp()),
      [0, 1, 2, 3, 4, 5].map((i) => (0xffffff00 + i * 160) >>> 0),
    );
    assert.deepEqual(
      packets.map((p) => p.getMarker()),
      [true, false, false, false, false, false],
    );
    for (const p of packets) {
      assert.equal(p.getSsrc(), 0xcafebabe);
      assert.equal(p.getPayloadType(), 0);
      assert.equal(p.getPayload().byteLength, 160);
    }
    const expected = encodeUlaw(Int16Array.from({ length: 960 }, (_, i) => pcm[i] ?? 0));
    const sent = new Uint8Array(packets.flatMap((p) => Array.from(new Uint8Array(p.getPayload().buffer, p.getPayload().byteOffset, 160))));
    assert.deepEqual(sent, expected);

    const compound = new CompoundPacket(new DataView(rtcp.got[0]!.data.buffer));
    const [sr, sdes, bye] = compound.getPackets();
    assert.ok(sr instanceof SenderReportPacket);
    assert.equal(sr.getSsrc(), 0xcafebabe);
    assert.equal(sr.getPacketCount(), 6);
    assert.equal(sr.getOctetCount(), 960);
    assert.ok(sdes instanceof SdesPacket);
    assert.deepEqual(sdes.getChunks()[0]?.getItems(), [{ type: 1, text: 'pbx@test' }]);
    assert.ok(bye instanceof ByePacket);
    assert.deepEqual(bye.getSsrcs(), [0xcafebabe]);
    assert.equal(bye.getReason(), 'call ended');

    // A second send() continues the numbering and starts a new talkspurt.
    await sender.send(new Int16Array(160), 8000);
    await waitFor('7th packet', () => rtp.got.length === 7);
    const seventh = parseRtp(rtp.got[6]!.data);
    assert.equal(seventh.getSequenceNumber(), 3);
    assert.equal(seventh.getMarker(), true);
  });

  void it('rejects PCM at a rate other than the codec clock, stating both', async () => {
    const sender = new RtpSender({ codec: PCMU, destination: { address: HOST, port: 9 } });
    cleanup.push(() => sender.close());
    await assert.rejects(sender.send(new Int16Array(320), 16000), (err: unknown) => err instanceof RangeError && /16000 Hz.*8000 Hz/.test(err.message));
  });

  void it('paces 20 ms packets on the wall clock without drift', async () => {
    const rtp = await capture();
    const sender = new RtpSender({ codec: PCMU, destination: { address: HOST, port: rtp.port } });
    cleanup.push(() => sender.close());
    const result = await sender.send(new Int16Array(8000), 8000); // 1 s = 50 packets
    assert.equal(result.packetsSent, 50);
    await waitFor('50 packets', () => rtp.got.length === 50);
    // Offset of each arrival from its slot on the schedule; receive times are
    // taken on this same event loop, so allow a few ms of scheduling noise.
    const offsets = rtp.got.map((g, i) => g.at - i * 20);
    const median = [...offsets].sort((a, b) => a - b)[25]!;
    const drift = (offsets.slice(-5).reduce((a, b) => a + b, 0) - offsets.slice(0, 5).reduce((a, b) => a + b, 0)) / 5;
    assert.ok(Math.abs(drift) < 40, `schedule drifted by ${drift.toFixed(1)} ms over 1 s`);
    const early = Math.min(...offsets) - median;
    assert.ok(early > -10, `a packet went out ${(-early).toFixed(1)} ms ahead of its slot`);
    assert.ok(result.durationMs > 960 && result.durationMs < 1200, `duration ${result.durationMs}`);
  });

  void it('stops on abort, sends BYE, and rejects with the abort reason', async () => {
    const rtp = await capture();
    const rtcp = await capture();
    const sender = new RtpSender({ codec: PCMU, destination: { address: HOST, port: rtp.port }, rtcpPort: rtcp.port });
    cleanup.push(() => sender.close());
    const controller = new AbortController();
    const sending = sender.send(new Int16Array(8000 * 5), 8000, { signal: controller.signal, bye: true });
    await sleep(150);
    controller.abort(new Error('hang up'));
    await assert.rejects(sending, /hang up/);
    const count = rtp.got.length;
    assert.ok(count >= 4 && count <= 12, `${count} packets before abort`);
    await waitFor('BYE', () => rtcp.got.length === 1);
    await sleep(60);
    assert.equal(rtp.got.length, count, 'nothing sent after abort');
    await assert.rejects(sender.send(new Int16Array(160), 8000, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  void it('refuses bad input', async () => {
    assert.throws(() => new RtpSender({ codec: PCMU, destination: { address: HOST, port: 9 }, ptimeMs: 0.01 }), RangeError);
    const sender = new RtpSender({ codec: PCMU, destination: { address: HOST, port: 9 } });
    await assert.rejects(sender.send(new Int16Array(10), 44100), RangeError);
    await sender.close();
    await sender.close();
    await assert.rejects(sender.send(new Int16Array(10), 8000), /closed/);
  });

  for (const [spec, inputRate] of [
    [L16, 16000],
    [PCMU, 8000],
  ] as const) {
    void it(`reaches an RtpLegReceiver end to end: ${spec.name}/${spec.clockRate} from ${inputRate} Hz PCM, then BYE`, async () => {
      const lease = await allocator.allocate();
      const receiver = new RtpLegReceiver({ leg: 'agent', sockets: lease, decoder: createDecoder(spec) });
      cleanup.push(async () => {
        await receiver.close();
        await lease.release();
      });
      const frames: RtpAudioFrame[] = [];
      let byes = 0;
      receiver.on('audio', (f) => frames.push(f));
      receiver.on('bye', () => byes++);
      const pcm = sine(inputRate / 5, inputRate); // 200 ms
      const result = await RtpSender.sendPcm({
        codec: spec,
        destination: { address: HOST, port: lease.rtpPort },
        pcm,
        sampleRate: inputRate,
      });
      assert.equal(result.packetsSent, 10);
      await waitFor('BYE', () => byes === 1);
      await waitFor('10 frames', () => frames.length === 10);
      const received = Int16Array.from(frames.flatMap((f) => Array.from(f.pcm)));
      assert.equal(received.length, spec.clockRate / 5);
      assert.ok(frames.every((f) => f.sampleRate === spec.clockRate && !f.concealed));
      if (spec.name === 'L16') assert.deepEqual(received, pcm);
      else {
        // Loose check that the tone survived companding.
        const rms = Math.sqrt(received.reduce((a, s) => a + s * s, 0) / received.length);
        assert.ok(rms > 7000 && rms < 10000, `rms ${rms}`);
      }
      assert.equal(receiver.stats.packetsLost, 0);
      assert.equal(receiver.stats.packetsDropped, 0);
    });
  }
});
