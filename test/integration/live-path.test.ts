/**
 * The live path end to end on real sockets: gRPC StartCall, both legs as
 * real-time RTP from ffmpeg (L16 16 kHz, payload type 96, engine pocketsphinx
 * en-US at 16 kHz), transcripts and intents on a /v1/events WebSocket.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderCall, type RenderedCall, type Turn } from '../../src/demo/speech.js';
import { streamWithFfmpeg } from '../helpers/ffmpeg.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const RATE = 16000;
const PT = 96;

let gw: TestGateway;
let events: EventRecorder;
let scratch: string;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-live-'));
  gw = await startTestGateway({ rtpPortMin: 42000, rtpPortMax: 42099, rtpTimeoutMs: 10_000 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
  await rm(scratch, { recursive: true, force: true });
});

async function startCall(callId: string): Promise<{ customer: number; agent: number }> {
  const reply = await gw.control.startCall({
    call_id: callId,
    agent_id: 'agent-1',
    queue: 'orders',
    language: 'en-US',
    legs: [
      { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: RATE, payload_type: PT },
      { role: 'LEG_ROLE_AGENT', codec: 'CODEC_L16', clock_rate: RATE, payload_type: PT },
    ],
  });
  const port = (role: string): number => reply.legs.find((l) => l.role === role)?.rtp_port ?? assert.fail(`no ${role} leg`);
  return { customer: port('LEG_ROLE_CUSTOMER'), agent: port('LEG_ROLE_AGENT') };
}

/** Streams both legs with ffmpeg; resolves with the wall time ffmpeg was started (an upper bound on audio start). */
async function playCall(callId: string, call: RenderedCall, ports: { customer: number; agent: number }): Promise<number> {
  const legs = await Promise.all(
    (['customer', 'agent'] as const).map((role) =>
      streamWithFfmpeg({ pcm: call.legs[role], sampleRate: RATE, codec: 'L16', port: ports[role], payloadType: PT, wavPath: path.join(scratch, `${callId}-${role}.wav`) }),
    ),
  );
  return Math.min(...legs.map((l) => l.startedAt));
}

describe('live path: RTP in, transcript and intent out', () => {
  test('customer asking to cancel gets a transcript and cancel_order within 1.5 s of the phrase', async () => {
    const script: Turn[] = [
      { speaker: 'agent', text: 'Thank you for calling, how can I help?' },
      { speaker: 'customer', text: 'Hello, I would like to cancel my order' },
      { speaker: 'agent', text: 'Certainly, one moment please.' },
    ];
    const call = await renderCall(script, { rate: RATE });
    const callId = 'it-cancel';
    const ports = await startCall(callId);
    const phrase = call.turns[1];
    assert.ok(phrase);

    const intentPromise = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent', 30_000, 'intent');
    const startedAt = await playCall(callId, call, ports);
    const intent = await intentPromise;
    // ffmpeg sends no RTCP BYE: hang up as a PBX does.
    await gw.control.endCall(callId);

    assert.equal(intent.event.type, 'intent');
    if (intent.event.type !== 'intent') return;
    assert.equal(intent.event.intent, 'cancel_order');
    assert.equal(intent.event.leg, 'customer');
    // ffmpeg starts sending a little after it is spawned, so this over-states latency slightly.
    const phraseEndWall = startedAt + phrase.endMs;
    const latencyMs = intent.receivedAt - phraseEndWall;
    console.log(`# intent latency: ${latencyMs} ms after the end of the phrase audio (${intent.event.partial ? 'from a partial' : 'from the final'})`);
    assert.ok(latencyMs <= 1500, `intent arrived ${latencyMs} ms after the phrase ended`);

    const ended = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 15_000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'ended-by-request');
    const gatewayLatency = await gw.metrics.eventLatency.get();
    const sum = gatewayLatency.values.find((v) => v.metricName === 'sgw_event_latency_seconds_sum' && v.labels['type'] === 'intent')?.value;
    console.log(`# gateway-side intent latency (publication minus end of the matched words' audio): ${sum === undefined ? 'n/a' : Math.round(sum * 1000)} ms`);

    const mine = events.forCall(callId);
    const customerFinals = mine.filter((e) => e.type === 'transcript' && e.leg === 'customer' && e.final);
    assert.ok(customerFinals.some((e) => e.type === 'transcript' && /cancel/.test(e.text) && /order/.test(e.text)), `customer finals: ${JSON.stringify(customerFinals)}`);
    const agentFinals = mine.filter((e) => e.type === 'transcript' && e.leg === 'agent' && e.final);
    assert.ok(agentFinals.length > 0, 'agent leg transcribed too');
    // Exactly one cancel_order for the one utterance, and times on the call's timeline.
    const intents = mine.filter((e) => e.type === 'intent');
    assert.equal(intents.length, 1, JSON.stringify(intents));
    if (intent.event.type === 'intent') {
      assert.ok(Math.abs(intent.event.endMs - phrase.endMs) < 1500, `intent endMs ${intent.event.endMs} vs phrase end ${phrase.endMs}`);
    }
    // seq increases by one per message on this connection.
    const seqs = events.events.map((e) => e.event.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
    assert.equal(mine[0]?.type, 'call.started');
    assert.deepEqual(mine.slice(-2).map((e) => e.type), ['call.ended', 'call.summary']);
  });

  test('a call with no such request gets no intent, and the agent asking about cancelling is not a customer intent', async () => {
    const script: Turn[] = [
      { speaker: 'customer', text: 'Hi, I just moved and need to update my address.' },
      { speaker: 'agent', text: 'Sure. Would you like me to cancel the order as well?' },
      { speaker: 'customer', text: 'No thank you, the new address is fine.' },
    ];
    const call = await renderCall(script, { rate: RATE });
    const callId = 'it-no-intent';
    const ports = await startCall(callId);
    await playCall(callId, call, ports);
    await gw.control.endCall(callId);
    await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 15_000, 'call.ended');
    const mine = events.forCall(callId);
    const agentFinals = mine.filter((e) => e.type === 'transcript' && e.leg === 'agent' && e.final);
    assert.ok(agentFinals.some((e) => e.type === 'transcript' && /cancel/.test(e.text)), `the agent's question was transcribed: ${JSON.stringify(agentFinals)}`);
    assert.deepEqual(mine.filter((e) => e.type === 'intent'), []);
  });

  test('a packet flood from a foreign address is dropped and counted; the transcript is unaffected', async () => {
    const script: Turn[] = [
      { speaker: 'customer', text: 'Hello, I would like to cancel my order' },
      { speaker: 'agent', text: 'Of course.' },
    ];
    const call = await renderCall(script, { rate: RATE, leadMs: 1500 });
    const callId = 'it-flood';
    const ports = await startCall(callId);
    const droppedBefore = await metricValue(gw.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'foreign_source' });

    const playing = playCall(callId, call, ports);
    // Flood only once the real source has latched, as an attacker arriving mid-call would.
    for (let i = 0; i < 100; i++) {
      const info = await gw.control.getCall(callId);
      if (info.legs.every((l) => l.remote !== '')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const flooder = dgram.createSocket('udp4');
    const packet = Buffer.alloc(12 + 640);
    packet[0] = 0x80;
    packet[1] = PT;
    // 5000 packets/s for 3 s: a hundred times the real stream's rate.
    let sent = 0;
    const floodStart = Date.now();
    while (Date.now() - floodStart < 3000) {
      const due = Math.floor(((Date.now() - floodStart) / 1000) * 5000);
      for (; sent < due; ) {
        packet.writeUInt16BE(sent & 0xffff, 2);
        packet.writeUInt32BE((sent * 320) >>> 0, 4);
        packet.writeUInt32BE(0xdeadbeef, 8);
        await new Promise<void>((resolve) => flooder.send(packet, ports.customer, '127.0.0.1', () => resolve()));
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    flooder.close();
    await playing;
    await gw.control.endCall(callId);
    await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 15_000, 'call.ended');

    const dropped = (await metricValue(gw.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'foreign_source' })) - droppedBefore;
    console.log(`# flood: ${sent} foreign packets sent, ${dropped} dropped as foreign_source`);
    assert.ok(sent >= 14_000, `flood sent ${sent}`);
    // Loopback UDP may shed a little of the flood in the kernel; what arrives is dropped and counted.
    assert.ok(dropped > sent * 0.9 && dropped <= sent, `dropped ${dropped} of ${sent}`);
    const info = await gw.control.getCall(callId);
    const customer = info.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER');
    assert.ok(customer && customer.packets_dropped >= dropped, 'per-leg counter matches');
    assert.equal(customer?.packets_lost, 0, 'no packet of the latched source lost');
    console.log(`# flood: latched source lost ${customer?.packets_lost} of ${customer?.packets_received} packets`);

    const mine = events.forCall(callId);
    assert.ok(mine.some((e) => e.type === 'transcript' && e.leg === 'customer' && e.final && /cancel/.test(e.text)), JSON.stringify(mine));
    assert.ok(mine.some((e) => e.type === 'intent' && e.intent === 'cancel_order'));
  });
});
