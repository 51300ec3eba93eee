/**
 * Fuzzes the RTP/RTCP listener: ≥100,000 mutated and random datagrams (seeded,
 * reproducible with FUZZ_SEED), bounded at 60 s, at the real sockets of live
 * calls (a G.722 and an Opus leg, so both stateful decoders see the bytes,
 * and their RTCP ports), while a well-formed call streams alongside in real
 * time. Afterwards the gateway still takes a new call, the well-formed call
 * got its intent on the right leg, and the bad-input counters moved.
 *
 * The fuzzed calls are in a secure pause: their audio goes through the whole
 * receive path (parse, jitter buffer, decoder) but reaches the recogniser as
 * silence, so the fuzz does not starve the well-formed call of ASR time.
 * A fuzzed RTCP BYE may end a fuzzed call (as it should): a new one is then
 * started and the fuzz goes on against it.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { ByePacket, CompoundPacket, ReceiverReportPacket, RtpPacket, SdesChunk, SdesPacket, SenderReportPacket } from 'rtp.js/packets';
import type { CodecSpec } from '../../src/audio/codecs/index.js';
import { synthesize } from '../../src/demo/speech.js';
import type { Codec } from '../../src/ingest/grpc/generated/speechgateway/v1/Codec.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { prng } from '../helpers/prng.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_47);
const TARGET_INPUTS = 100_000;
const BUDGET_MS = 60_000;
const HOST = '127.0.0.1';

let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 43600, rtpPortMax: 43679, rtpTimeoutMs: 20_000, asrCapacityCores: 8 });
  events = await EventRecorder.connect(gw.addresses.http.port, '?types=call.started,intent,transcript,call.ended');
});

after(async () => {
  events.close();
  await gw.close();
});

type Rand = () => number;

function bytes(rand: Rand, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

function view(v: DataView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** Flips 1-4 random bits, mostly in the first 16 bytes (the header). */
function mutate(rand: Rand, data: Uint8Array): Uint8Array {
  const out = data.slice();
  const flips = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < flips && out.length > 0; i++) {
    const at = Math.floor(rand() * (rand() < 0.7 ? Math.min(out.length, 16) : out.length));
    out[at] = (out[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
  }
  return rand() < 0.2 ? out.subarray(0, Math.floor(rand() * out.length)) : out;
}

interface Target {
  readonly callId: string;
  readonly codec: 'G722' | 'OPUS';
  readonly payloadType: number;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  seq: number;
  ts: number;
  ended: boolean;
}

/** An Opus packet with a plausible TOC (any config, codes 0-3) and random frame bytes. */
function opusPayload(rand: Rand): Uint8Array {
  const p = bytes(rand, 1 + Math.floor(rand() * 80));
  if (rand() < 0.8) p[0] = ((Math.floor(rand() * 32) << 3) | Math.floor(rand() * 4)) & 0xff;
  return p;
}

function rtpFor(rand: Rand, t: Target): Uint8Array {
  const p = new RtpPacket();
  const r = rand();
  const ticks = t.codec === 'OPUS' ? 960 : 160;
  if (r < 0.6) {
    // In sequence (mostly), with occasional reordering, duplicates, jumps.
    const jitter = rand() < 0.85 ? 0 : Math.floor(rand() * 9) - 4;
    p.setSequenceNumber((t.seq + jitter) & 0xffff);
    p.setTimestamp((t.ts + jitter * ticks) >>> 0);
    t.seq = (t.seq + 1) & 0xffff;
    t.ts = (t.ts + ticks + (rand() < 0.02 ? Math.floor(rand() * 100_000) : 0)) >>> 0;
  } else {
    p.setSequenceNumber(Math.floor(rand() * 0x10000));
    p.setTimestamp(Math.floor(rand() * 0x100000000) >>> 0);
  }
  p.setSsrc(rand() < 0.97 ? 0xf00d : Math.floor(rand() * 0x100000000) >>> 0);
  p.setMarker(rand() < 0.1);
  const kind = rand();
  if (kind < 0.15) {
    // RFC 4733 telephone-event: random event codes, end bits, durations, lengths.
    p.setPayloadType(101);
    const len = rand() < 0.8 ? 4 : Math.floor(rand() * 13);
    const payload = bytes(rand, len);
    if (len >= 1 && rand() < 0.7) payload[0] = Math.floor(rand() * 20);
    p.setPayload(new DataView(payload.buffer));
  } else {
    p.setPayloadType(kind < 0.95 ? t.payloadType : Math.floor(rand() * 128));
    const payload = t.codec === 'OPUS' ? opusPayload(rand) : bytes(rand, Math.floor(rand() * 330));
    p.setPayload(new DataView(payload.buffer));
  }
  const data = view(p.getView());
  return rand() < 0.3 ? mutate(rand, data) : data;
}

function rtcpFor(rand: Rand): Uint8Array {
  const members = [];
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const k = rand();
    if (k < 0.35) {
      const sr = new SenderReportPacket();
      sr.setSsrc(Math.floor(rand() * 0x100000000) >>> 0);
      sr.setPacketCount(Math.floor(rand() * 1000));
      members.push(sr);
    } else if (k < 0.7) {
      const rr = new ReceiverReportPacket();
      rr.setSsrc(Math.floor(rand() * 0x100000000) >>> 0);
      members.push(rr);
    } else if (k < 0.997) {
      const sdes = new SdesPacket();
      const chunk = new SdesChunk();
      chunk.setSsrc(0xf00d);
      chunk.addItem(1, `fuzz${Math.floor(rand() * 1000)}`);
      sdes.addChunk(chunk);
      members.push(sdes);
    } else {
      const bye = new ByePacket();
      bye.addSsrc(0xf00d);
      members.push(bye);
    }
  }
  const compound = new CompoundPacket();
  compound.setPackets(members);
  const data = view(compound.getView());
  return rand() < 0.6 ? mutate(rand, data) : data;
}

const CODECS: Record<Target['codec'], { grpc: Codec; clockRate: number; payloadType: number }> = {
  G722: { grpc: 'CODEC_G722', clockRate: 0, payloadType: 0 },
  OPUS: { grpc: 'CODEC_OPUS', clockRate: 48000, payloadType: 111 },
};

let targetCount = 0;
async function startTarget(codec: Target['codec']): Promise<Target> {
  const c = CODECS[codec];
  const callId = `fuzz-${codec.toLowerCase()}-${++targetCount}`;
  const reply = await gw.control.startCall({
    call_id: callId,
    agent_id: 'fuzz',
    queue: 'fuzz',
    language: 'en-US',
    legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: c.grpc, clock_rate: c.clockRate, payload_type: c.payloadType }],
  });
  await new Promise<void>((resolve, reject) =>
    gw.control.raw.SetRecognitionPaused({ call_id: callId, paused: true, role: 'LEG_ROLE_UNSPECIFIED' }, (err) => (err ? reject(err) : resolve())),
  );
  const leg = reply.legs[0] ?? assert.fail('no leg');
  return { callId, codec, payloadType: codec === 'G722' ? 9 : 111, rtpPort: leg.rtp_port, rtcpPort: leg.rtcp_port, seq: 1000, ts: 5000, ended: false };
}

test('RTP/RTCP fuzz: ≥100k datagrams; the process stays up, counters move, a real call still gets its intent', { timeout: 90_000 }, async () => {
  const rand = prng(SEED);
  const dropped = (reason: string) => metricValue(gw.metrics, 'sgw_rtp_packets_dropped_total', { reason });
  const before = {
    malformed: await dropped('malformed'),
    foreign: await dropped('foreign_source'),
  };

  // The well-formed call, in real time beside the fuzz.
  const speech = await synthesize('Hello, I would like to cancel my order', { voice: 'slt', rate: 16000 });
  const padded = new Int16Array(speech.length + 16000);
  padded.set(speech, 8000);
  const good = await gw.control.startCall({
    call_id: 'fuzz-good',
    agent_id: 'agent-1',
    queue: 'orders',
    language: 'en-US',
    legs: [
      { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: 16000, payload_type: 96 },
      { role: 'LEG_ROLE_AGENT', codec: 'CODEC_L16', clock_rate: 16000, payload_type: 96 },
    ],
  });
  const goodPort = good.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER')?.rtp_port ?? assert.fail('no customer leg');
  const goodSpec: CodecSpec = { name: 'L16', clockRate: 16000, payloadType: 96 };
  const intent = events.waitFor((e) => e.event.callId === 'fuzz-good' && e.event.type === 'intent', 60_000, 'intent of the well-formed call');
  const goodSending = RtpSender.sendPcm({ codec: goodSpec, destination: { address: HOST, port: goodPort }, pcm: padded, sampleRate: 16000, bye: false });

  const targets = [await startTarget('G722'), await startTarget('OPUS')];
  const ended = new Set<string>();
  events.ws.on('message', (data: Buffer) => {
    const e = JSON.parse(data.toString('utf8')) as { type: string; callId: string };
    if (e.type === 'call.ended') ended.add(e.callId);
  });
  // One socket per target (the latched source); one foreign socket.
  const sockets = await Promise.all([0, 1, 2].map(() => new Promise<dgram.Socket>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('error', () => undefined);
    s.bind(0, HOST, () => resolve(s));
  })));
  const foreign = sockets[2] as dgram.Socket;

  const started = Date.now();
  let sent = 0;
  let restarts = 0;
  while (sent < TARGET_INPUTS && Date.now() - started < BUDGET_MS) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i] as Target;
      if (ended.has(t.callId)) {
        restarts++;
        targets[i] = await startTarget(t.codec);
      }
    }
    for (let burst = 0; burst < 50; burst++) {
      const i = rand() < 0.5 ? 0 : 1;
      const t = targets[i] as Target;
      const socket = sockets[i] as dgram.Socket;
      const r = rand();
      if (r < 0.62) socket.send(rtpFor(rand, t), t.rtpPort, HOST);
      else if (r < 0.77) socket.send(rtcpFor(rand), rand() < 0.8 ? t.rtcpPort : t.rtpPort, HOST);
      else if (r < 0.92) socket.send(bytes(rand, Math.floor(rand() * 200)), rand() < 0.5 ? t.rtpPort : t.rtcpPort, HOST);
      else if (r < 0.97) socket.send(mutate(rand, rtpFor(rand, t)), t.rtpPort, HOST);
      else {
        // Another source at the well-formed call: RTP-looking (never RTCP), refused as foreign.
        const p = bytes(rand, 12 + Math.floor(rand() * 100));
        p[0] = 0x80;
        p[1] = 96;
        foreign.send(p, goodPort, HOST);
      }
      sent++;
    }
    // Let the gateway (same process) read what was sent: keeps the socket buffers from overflowing.
    await yieldLoop();
  }
  const elapsed = Date.now() - started;
  console.log(`# sent ${sent} datagrams in ${elapsed} ms (seed ${SEED}); fuzzed calls restarted after a BYE ${restarts} times`);
  assert.ok(sent >= TARGET_INPUTS, `only ${sent} datagrams in ${BUDGET_MS} ms`);

  await goodSending;
  const got = await intent;
  assert.equal(got.event.type === 'intent' && got.event.intent, 'cancel_order');
  assert.equal(got.event.type === 'intent' && got.event.leg, 'customer');

  // Counters moved, by reason.
  const after = {
    malformed: await dropped('malformed'),
    foreign: await dropped('foreign_source'),
  };
  const summary: Record<string, number> = {};
  for (const reason of ['malformed', 'foreign_source', 'unexpected_payload_type', 'duplicate', 'late', 'out_of_range']) summary[reason] = await dropped(reason);
  for (const outcome of ['digit', 'malformed', 'ignored', 'redundant']) summary[`dtmf_${outcome}`] = await metricValue(gw.metrics, 'sgw_rtp_telephone_events_total', { outcome });
  for (const event of ['reordered', 'lost', 'resync', 'silence_fill', 'timestamp_jump', 'ssrc_change']) summary[`jitter_${event}`] = await metricValue(gw.metrics, 'sgw_rtp_jitter_events_total', { event });
  summary['rtcp_sr'] = await metricValue(gw.metrics, 'sgw_rtcp_packets_received_total', { type: 'sr' });
  console.log(`# counters: ${JSON.stringify(summary)}`);
  assert.ok(after.malformed - before.malformed > 1000, `malformed moved by ${after.malformed - before.malformed}`);
  assert.ok(after.foreign - before.foreign > 100, `foreign_source moved by ${after.foreign - before.foreign}`);
  assert.ok((summary['dtmf_malformed'] ?? 0) > 0 && (summary['jitter_ssrc_change'] ?? 0) > 0 && (summary['rtcp_sr'] ?? 0) > 0);

  // Still takes a new call, and the fuzzed ones end cleanly.
  const fresh = await gw.control.startCall({ call_id: 'after-fuzz', agent_id: 'a', queue: 'q', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_OPUS', clock_rate: 48000, payload_type: 111 }] });
  assert.equal(fresh.call_id, 'after-fuzz');
  for (const id of ['after-fuzz', 'fuzz-good', ...targets.filter((t) => !ended.has(t.callId)).map((t) => t.callId)]) await gw.control.endCall(id);
  for (const s of sockets) s.close();
});
