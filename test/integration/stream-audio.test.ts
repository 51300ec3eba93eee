/**
 * gRPC CallControl.StreamAudio with the real grpc-js client: a flite two-leg
 * call streamed in real time (customer PCMU 8 kHz, agent L16 8 kHz), its
 * events back on the same stream and on /v1/events, and the statuses bad
 * input gets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { encodeL16, encodeUlaw } from '../../src/audio/codecs/index.js';
import { renderCall, type Turn } from '../../src/demo/speech.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { StreamAudioRequest } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import type { StreamAudioStart } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioStart.js';
import { TEST_SECRET, hsToken } from '../helpers/auth.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 46200, rtpPortMax: 46219, rtpTimeoutMs: 10_000 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

type Duplex = grpc.ClientDuplexStream<StreamAudioRequest, StreamAudioResponse__Output>;

/** Collects a stream's responses and its final status. */
function observe(stream: Duplex): { responses: StreamAudioResponse__Output[]; status: Promise<grpc.StatusObject> } {
  const responses: StreamAudioResponse__Output[] = [];
  stream.on('data', (r: StreamAudioResponse__Output) => responses.push(r));
  // The status arrives as 'status' for every outcome; 'error' repeats it for non-OK ones.
  stream.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
  return { responses, status };
}

function start(callId: string, legs: StreamAudioStart['legs'] = [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }]): StreamAudioRequest {
  return { start: { call_id: callId, agent_id: 'agent-sa', queue: 'orders', language: 'en-US', legs } };
}

async function statusOf(requests: StreamAudioRequest[], options: { halfClose?: boolean } = {}): Promise<grpc.StatusObject> {
  const stream = gw.control.streamAudio();
  const { status } = observe(stream);
  for (const request of requests) stream.write(request);
  if (options.halfClose ?? true) stream.end();
  const result = await status;
  stream.cancel();
  return result;
}

describe('StreamAudio: a two-leg call', () => {
  test('customer PCMU and agent L16 at 8 kHz: intent on the response stream and on /v1/events with the right leg', async () => {
    const script: Turn[] = [
      { speaker: 'agent', text: 'Good morning, how can I help you?' },
      { speaker: 'customer', text: 'This is the third time I am calling. I want to speak to your manager.' },
      { speaker: 'agent', text: 'I understand, one moment please.' },
    ];
    const call = await renderCall(script, { rate: 8000, voices: { customer: 'rms', agent: 'slt' } });
    const callId = 'sa-two-leg';
    const stream = gw.control.streamAudio();
    const { responses, status } = observe(stream);
    stream.write(
      start(callId, [
        { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' },
        { role: 'LEG_ROLE_AGENT', codec: 'CODEC_L16', clock_rate: 8000 },
      ]),
    );
    const onEvents = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'speak_to_manager', 60_000, 'speak_to_manager on /v1/events');
    onEvents.catch(() => undefined);

    const frame = 160;
    const t0 = Date.now();
    const dtmfAt = Math.round(((call.turns[2]?.startMs ?? 9000) * 8000) / 1000);
    for (let i = 0, seq = 1; i < call.legs.customer.length; i += frame, seq++) {
      stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.from(encodeUlaw(call.legs.customer.subarray(i, i + frame))), sequence: seq } });
      stream.write({ audio: { role: 'LEG_ROLE_AGENT', payload: Buffer.from(encodeL16(call.legs.agent.subarray(i, i + frame))), sequence: seq } });
      if (i <= dtmfAt && dtmfAt < i + frame) stream.write({ dtmf: { role: 'LEG_ROLE_CUSTOMER', digit: '7', duration_ms: 120 } });
      const due = t0 + ((i + frame) / 8000) * 1000 - Date.now();
      if (due > 0) await sleep(due);
    }
    stream.end();
    const final = await status;
    assert.equal(final.code, grpc.status.OK, final.details);

    assert.equal(responses[0]?.message, 'started');
    assert.equal(responses[0]?.started?.call_id, callId);
    const streamed = responses.filter((r) => r.event != null).map((r) => r.event as NonNullable<StreamAudioResponse__Output['event']>);
    assert.equal(streamed[0]?.type, 'call.started');
    assert.equal(streamed.at(-1)?.type, 'call.summary', 'the stream ends after call.summary');
    const intent = streamed.find((e) => e.type === 'intent' && e.intent === 'speak_to_manager');
    assert.ok(intent, `speak_to_manager on the response stream (got ${streamed.map((e) => e.type).join(', ')})`);
    assert.equal(intent.leg, 'customer');
    assert.equal((JSON.parse(intent.json) as { leg: string }).leg, 'customer');
    assert.ok(streamed.some((e) => e.type === 'transcript' && e.leg === 'agent' && e.final && e.text !== ''), 'a final agent transcript');
    const dtmf = streamed.find((e) => e.type === 'dtmf');
    assert.equal(dtmf?.leg, 'customer');
    assert.equal((JSON.parse(dtmf.json) as { digit: string }).digit, '7');
    const ended = streamed.find((e) => e.type === 'call.ended');
    assert.equal((JSON.parse(ended?.json ?? '{}') as { reason?: string }).reason, 'stream-closed');

    const seen = await onEvents;
    assert.ok(seen.event.type === 'intent' && seen.event.leg === 'customer');
    assert.equal(seen.event.eventId, intent.event_cursor);
  });
});

describe('StreamAudio: bad input gets a status, not a crash', () => {
  test('the first message must be a start', async () => {
    const status = await statusOf([{ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(160) } }]);
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /^start: the first message must be a start, got audio/);
  });

  test('a half-close before the start, and an empty message', async () => {
    assert.equal((await statusOf([])).code, grpc.status.INVALID_ARGUMENT);
    const empty = await statusOf([start('sa-empty'), {}]);
    assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
    assert.match(empty.details, /^message: is empty/);
  });

  test('bad codec, language and call id name the field', async () => {
    const codec = await statusOf([start('sa-codec', [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_UNSPECIFIED' }])]);
    assert.equal(codec.code, grpc.status.INVALID_ARGUMENT);
    assert.match(codec.details, /^start\.legs\[0\]\.codec: /);
    const rate = await statusOf([start('sa-rate', [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', clock_rate: 16000 }])]);
    assert.match(rate.details, /^start\.legs\[0\]\.clock_rate: /);
    const id = await statusOf([start('bad id with spaces')]);
    assert.match(id.details, /^start\.call_id: /);
    const language = await statusOf([{ start: { call_id: 'sa-lang', language: 'fr-FR', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] } }]);
    assert.match(language.details, /^start\.language: /);
  });

  test('an unknown role, a leg the call does not have, a torn L16 sample and a bad digit end the stream; the call ends', async () => {
    const role = await statusOf([start('sa-role'), { audio: { role: 'LEG_ROLE_UNSPECIFIED', payload: Buffer.alloc(160) } }]);
    assert.equal(role.code, grpc.status.INVALID_ARGUMENT);
    assert.match(role.details, /^audio\.role: /);
    const agent = await statusOf([start('sa-noagent'), { audio: { role: 'LEG_ROLE_AGENT', payload: Buffer.alloc(160) } }]);
    assert.match(agent.details, /^audio\.role: the call has no agent leg/);
    const torn = await statusOf([start('sa-torn', [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: 16000 }]), { audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(321) } }]);
    assert.equal(torn.code, grpc.status.INVALID_ARGUMENT);
    assert.match(torn.details, /^audio\.payload: not L16 audio/);
    const digit = await statusOf([start('sa-digit'), { dtmf: { role: 'LEG_ROLE_CUSTOMER', digit: '12' } }]);
    assert.match(digit.details, /^dtmf\.digit: /);
    const ended = await events.waitFor((e) => e.event.callId === 'sa-torn' && e.event.type === 'call.ended', 5000, 'sa-torn ended');
    assert.ok(ended.event.type === 'call.ended' && ended.event.reason === 'stream-closed');
  });

  test('a chunk over 64 KiB gets RESOURCE_EXHAUSTED; a message over the gRPC limit too, refused by its declared length', async () => {
    const before = await metricValue(gw.metrics, 'sgw_stream_audio_errors_total', { reason: 'oversize' });
    const big = await statusOf([start('sa-big'), { audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(64 * 1024 + 1) } }]);
    assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(big.details, /^audio\.payload: 65537 bytes, at most 65536/);
    assert.equal(await metricValue(gw.metrics, 'sgw_stream_audio_errors_total', { reason: 'oversize' }), before + 1);
    const huge = await statusOf([start('sa-huge'), { audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(5 * 1024 * 1024) } }], { halfClose: false });
    assert.equal(huge.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(huge.details, /larger than max/);
  });

  test('a duplicate call id gets ALREADY_EXISTS, and the running call is not disturbed', async () => {
    const first = gw.control.streamAudio();
    const { responses, status } = observe(first);
    first.write(start('sa-dup'));
    await events.waitFor((e) => e.event.callId === 'sa-dup' && e.event.type === 'call.started', 5000, 'sa-dup started');
    const dup = await statusOf([start('sa-dup')]);
    assert.equal(dup.code, grpc.status.ALREADY_EXISTS);
    first.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(160, 0xff) } });
    first.write({ end: {} });
    assert.equal((await status).code, grpc.status.OK);
    const types = responses.filter((r) => r.event != null).map((r) => r.event?.type);
    assert.equal(types.filter((t) => t === 'call.started').length, 1);
    assert.equal(types.at(-1), 'call.summary');
  });

  test('late and duplicate sequence numbers are dropped and counted; pause and resume work on the stream', async () => {
    const stream = gw.control.streamAudio();
    const { status } = observe(stream);
    stream.write(start('sa-seq'));
    const before = await metricValue(gw.metrics, 'sgw_stream_audio_errors_total', { reason: 'sequence_late' });
    for (const sequence of [1, 2, 2, 1, 5]) stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(160, 0xff), sequence } });
    stream.write({ pause: { role: 'LEG_ROLE_CUSTOMER', secure: true } });
    stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(160, 0xff), sequence: 6 } });
    stream.write({ resume: {} });
    stream.end();
    assert.equal((await status).code, grpc.status.OK);
    assert.equal(await metricValue(gw.metrics, 'sgw_stream_audio_errors_total', { reason: 'sequence_late' }), before + 2);
    const gap = await events.waitFor((e) => e.event.callId === 'sa-seq' && e.event.type === 'transcript.gap', 5000, 'transcript.gap after resume');
    assert.ok(gap.event.type === 'transcript.gap' && gap.event.reason === 'secure-pause');
  });
});

describe('StreamAudio: authentication', () => {
  test('no token: UNAUTHENTICATED; an agent token: PERMISSION_DENIED; a pbx token streams', async () => {
    const secured = await startTestGateway({ rtpPortMin: 46220, rtpPortMax: 46239, jwtSecret: TEST_SECRET });
    try {
      const address = `127.0.0.1:${secured.addresses.grpcPort}`;
      const run = async (client: CallControl, requests: StreamAudioRequest[]): Promise<grpc.StatusObject> => {
        const stream = client.streamAudio();
        const { status } = observe(stream);
        for (const r of requests) stream.write(r);
        stream.end();
        return status;
      };
      const anonymous = new CallControl(address);
      const agent = new CallControl(address, undefined, { token: await hsToken({ role: 'agent', agentId: 'agent-1' }) });
      const pbx = new CallControl(address, undefined, { token: await hsToken({ role: 'pbx', subject: 'asterisk-1' }) });
      assert.equal((await run(anonymous, [start('sa-auth-1')])).code, grpc.status.UNAUTHENTICATED);
      assert.equal((await run(agent, [start('sa-auth-2')])).code, grpc.status.PERMISSION_DENIED);
      assert.equal((await run(pbx, [start('sa-auth-3'), { audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.alloc(160, 0xff) } }])).code, grpc.status.OK);
      for (const c of [anonymous, agent, pbx]) c.close();
    } finally {
      await secured.close();
    }
  });
});
