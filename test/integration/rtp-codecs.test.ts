/**
 * Every RTP codec from a real third-party sender: ffmpeg streams a two-leg
 * call as PCMU and PCMA (8 kHz), G.722 (payload type 9, 8000 Hz RTP clock, 16 kHz
 * audio) and Opus (dynamic payload type, 48 kHz clock, decoded to 16 kHz);
 * each call must produce cancel_order on /v1/events, on the customer leg.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderCall, type RenderedCall, type Turn } from '../../src/demo/speech.js';
import type { Codec } from '../../src/ingest/grpc/generated/speechgateway/v1/Codec.js';
import { streamWithFfmpeg, type FfmpegRtpCodec } from '../helpers/ffmpeg.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const RATE = 16000;

let gw: TestGateway;
let events: EventRecorder;
let scratch: string;
let call: RenderedCall;

const SCRIPT: Turn[] = [
  { speaker: 'agent', text: 'Thank you for calling, how can I help?' },
  { speaker: 'customer', text: 'Hello, I would like to cancel my order' },
  { speaker: 'agent', text: 'Certainly, one moment please.' },
];

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-codecs-'));
  gw = await startTestGateway({ rtpPortMin: 43500, rtpPortMax: 43549, rtpTimeoutMs: 10_000 });
  events = await EventRecorder.connect(gw.addresses.http.port);
  call = await renderCall(SCRIPT, { rate: RATE, voices: { customer: 'slt', agent: 'rms' } });
});

after(async () => {
  events.close();
  await gw.close();
  await rm(scratch, { recursive: true, force: true });
});

interface Case {
  readonly codec: FfmpegRtpCodec;
  readonly grpc: Codec;
  readonly clockRate: number;
  readonly payloadType: number;
}

const CASES: readonly Case[] = [
  { codec: 'PCMU', grpc: 'CODEC_PCMU', clockRate: 0, payloadType: 0 },
  { codec: 'PCMA', grpc: 'CODEC_PCMA', clockRate: 0, payloadType: 0 },
  { codec: 'G722', grpc: 'CODEC_G722', clockRate: 0, payloadType: 0 },
  { codec: 'OPUS', grpc: 'CODEC_OPUS', clockRate: 48000, payloadType: 111 },
];
const STATIC_PT: Partial<Record<FfmpegRtpCodec, number>> = { PCMU: 0, PCMA: 8, G722: 9 };

async function runCase(c: Case): Promise<void> {
  const callId = `codec-${c.codec.toLowerCase()}`;
  const reply = await gw.control.startCall({
    call_id: callId,
    agent_id: 'agent-1',
    queue: 'orders',
    language: 'en-US',
    legs: (['LEG_ROLE_CUSTOMER', 'LEG_ROLE_AGENT'] as const).map((role) => ({ role, codec: c.grpc, clock_rate: c.clockRate, payload_type: c.payloadType })),
  });
  const port = (role: string): number => reply.legs.find((l) => l.role === role)?.rtp_port ?? assert.fail(`no ${role} leg`);
  const intent = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent', 45_000, `${c.codec} intent`);
  const pt = c.payloadType === 0 ? (STATIC_PT[c.codec] ?? assert.fail('no static PT')) : c.payloadType;
  await Promise.all(
    (['customer', 'agent'] as const).map((role) =>
      streamWithFfmpeg({ pcm: call.legs[role], sampleRate: RATE, codec: c.codec, port: port(role === 'customer' ? 'LEG_ROLE_CUSTOMER' : 'LEG_ROLE_AGENT'), payloadType: pt, wavPath: path.join(scratch, `${callId}-${role}.wav`) }),
    ),
  );
  const got = await intent;
  const info = await gw.control.endCall(callId);
  assert.equal(got.event.type, 'intent');
  if (got.event.type !== 'intent') return;
  assert.equal(got.event.intent, 'cancel_order', `${c.codec}: ${JSON.stringify(got.event)}`);
  assert.equal(got.event.leg, 'customer', `${c.codec}: intent on the wrong leg`);
  const legs = info?.legs ?? [];
  assert.equal(legs.length, 2);
  for (const leg of legs) {
    assert.equal(leg.codec, c.grpc);
    assert.ok(Number(leg.packets_received) > 100, `${c.codec} ${leg.role}: ${leg.packets_received} packets`);
    assert.equal(Number(leg.packets_dropped), 0, `${c.codec} ${leg.role}: dropped packets`);
  }
  const transcripts = events.forCall(callId).filter((e) => e.type === 'transcript' && e.final);
  console.log(`# ${c.codec}: ${transcripts.map((e) => (e.type === 'transcript' ? `${e.leg}: ${e.text}` : '')).join(' | ')}`);
}

describe('RTP codecs from ffmpeg', () => {
  test('PCMU, PCMA, G.722 and Opus calls each give cancel_order on the customer leg', { timeout: 85_000 }, async () => {
    const started = Date.now();
    await Promise.all(CASES.map(runCase));
    console.log(`# four calls in ${Date.now() - started} ms`);
    const jitter: Record<string, number> = {};
    for (const event of ['reordered', 'lost', 'silence_fill', 'timestamp_jump', 'ssrc_change']) jitter[event] = await metricValue(gw.metrics, 'sgw_rtp_jitter_events_total', { event });
    console.log(`# jitter events: ${JSON.stringify(jitter)}`);
    assert.equal(jitter['lost'], 0);
    assert.equal(jitter['timestamp_jump'], 0);
    assert.equal(await metricValue(gw.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'malformed' }), 0);
  });
});
