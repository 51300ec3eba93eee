/**
 * The gRPC control plane on real sockets: validation statuses, port
 * allocation and release, call end by request, RTP silence and RTCP BYE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { StartCallRequest } from '../../src/ingest/grpc/generated/speechgateway/v1/StartCallRequest.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { rejection } from '../helpers/grpc.js';

let gw: TestGateway;
let events: EventRecorder;

// Two RTP/RTCP pairs: enough for one two-leg call, so a second one exhausts the range.
const RANGE = { rtpPortMin: 42200, rtpPortMax: 42203 };

before(async () => {
  gw = await startTestGateway({ ...RANGE, rtpTimeoutMs: 1500, asrWorkers: 1 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

const pcmuCall = (callId: string, overrides: Partial<StartCallRequest> = {}): StartCallRequest => ({
  call_id: callId,
  agent_id: 'agent-9',
  queue: 'billing',
  language: 'en-US',
  legs: [
    { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' },
    { role: 'LEG_ROLE_AGENT', codec: 'CODEC_PCMA' },
  ],
  ...overrides,
});

describe('control plane', () => {
  test('bad requests get INVALID_ARGUMENT naming the field', async () => {
    const cases: [Partial<StartCallRequest>, RegExp][] = [
      [{ language: 'fr-FR' }, /^language: /],
      [{ call_id: 'has spaces' }, /^call_id: /],
      [{ legs: [] }, /^legs: /],
      [{ legs: [{ role: 'LEG_ROLE_UNSPECIFIED', codec: 'CODEC_PCMU' }] }, /^legs\[0\]\.role: /],
      [{ legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }, { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] }, /^legs\[1\]\.role: /],
      [{ legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_UNSPECIFIED' }] }, /^legs\[0\]\.codec: /],
      [{ legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: 16000 }] }, /^legs\[0\]\.payload_type: /],
      [{ legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: 16000, payload_type: 42 }] }, /^legs\[0\]\.payload_type: /],
      [{ legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', clock_rate: 16000 }] }, /^legs\[0\]\.clock_rate: /],
      [{ legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: 44100, payload_type: 96 }] }, /^legs\[0\]\.clock_rate: /],
    ];
    for (const [overrides, message] of cases) {
      const err = await rejection(gw.control.startCall(pcmuCall('bad', overrides)));
      assert.equal(err.code, status.INVALID_ARGUMENT, `${JSON.stringify(overrides)}: ${err.details}`);
      assert.match(err.details, message);
    }
    assert.equal((await gw.control.listCalls()).calls.length, 0, 'nothing was started');
  });

  test('a language without a model is FAILED_PRECONDITION (pocketsphinx has en-US only)', async () => {
    const err = await rejection(gw.control.startCall(pcmuCall('dutch', { language: 'nl-NL' })));
    assert.equal(err.code, status.FAILED_PRECONDITION);
    assert.match(err.details, /nl-NL/);
  });

  test('unknown calls are NOT_FOUND; a missing call_id is INVALID_ARGUMENT', async () => {
    assert.equal((await rejection(gw.control.getCall('nope'))).code, status.NOT_FOUND);
    assert.equal((await rejection(gw.control.endCall('nope'))).code, status.NOT_FOUND);
    const err = await rejection(gw.control.endCall(''));
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /^call_id: /);
  });

  test('StartCall allocates even RTP ports from the range; an exhausted range is RESOURCE_EXHAUSTED; EndCall frees them', async () => {
    const reply = await gw.control.startCall(pcmuCall('c1'));
    assert.equal(reply.call_id, 'c1');
    assert.deepEqual(reply.legs.map((l) => l.role).sort(), ['LEG_ROLE_AGENT', 'LEG_ROLE_CUSTOMER']);
    // Pairs are chosen at random: which leg gets which is not fixed.
    assert.deepEqual(reply.legs.map((l) => [l.rtp_port, l.rtcp_port, l.host]).sort(), [
      [42200, 42201, '127.0.0.1'],
      [42202, 42203, '127.0.0.1'],
    ]);
    await events.waitFor((e) => e.event.callId === 'c1' && e.event.type === 'call.started', 2000);

    const duplicate = await rejection(gw.control.startCall(pcmuCall('c1')));
    assert.equal(duplicate.code, status.ALREADY_EXISTS);
    const exhausted = await rejection(gw.control.startCall(pcmuCall('c2')));
    assert.equal(exhausted.code, status.RESOURCE_EXHAUSTED);
    assert.match(exhausted.details, /port/i);

    const info = await gw.control.getCall('c1');
    assert.equal(info.state, 'active');
    assert.equal(info.agent_id, 'agent-9');
    assert.equal((await gw.control.listCalls()).calls.length, 1);

    const endedInfo = await gw.control.endCall('c1');
    assert.equal(endedInfo?.state, 'ended');
    assert.equal(endedInfo?.end_reason, 'ended-by-request');
    const ended = await events.waitFor((e) => e.event.callId === 'c1' && e.event.type === 'call.ended', 2000);
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'ended-by-request');
    assert.equal((await gw.control.getCall('c1')).state, 'ended', 'an ended call can still be looked up');
    assert.equal((await gw.control.listCalls()).calls.length, 0);

    // The ports are free again.
    const again = await gw.control.startCall(pcmuCall('c3'));
    assert.equal(again.legs.length, 2);
    await gw.control.endCall('c3');
  });

  test('a call without RTP ends after the silence timeout and frees its ports', async () => {
    const started = Date.now();
    await gw.control.startCall(pcmuCall('silent'));
    const ended = await events.waitFor((e) => e.event.callId === 'silent' && e.event.type === 'call.ended', 5000, 'rtp-timeout');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'rtp-timeout');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400 && elapsed < 4000, `ended after ${elapsed} ms with a 1500 ms timeout`);
    assert.equal(await metricValue(gw.metrics, 'sgw_calls_ended_total', { reason: 'rtp-timeout' }), 1);
    await gw.control.startCall(pcmuCall('after-silent'));
    await gw.control.endCall('after-silent');
  });

  test('RTCP BYE from the latched source ends the call', async () => {
    const reply = await gw.control.startCall(pcmuCall('bye'));
    const customer = reply.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER');
    assert.ok(customer);
    // One second of a 400 Hz tone, then SR+SDES+BYE on port+1, as a PBX hanging up.
    const tone = Int16Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 400 * i) / 8000)));
    await RtpSender.sendPcm({
      codec: { name: 'PCMU', clockRate: 8000, payloadType: 0 },
      destination: { address: customer.host, port: customer.rtp_port },
      rtcpPort: customer.rtcp_port,
      pcm: tone,
      sampleRate: 8000,
      bye: 'hangup',
    });
    const ended = await events.waitFor((e) => e.event.callId === 'bye' && e.event.type === 'call.ended', 3000, 'rtcp-bye');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'rtcp-bye');
    const info = await gw.control.getCall('bye');
    const leg = info.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER');
    assert.equal(leg?.packets_received, 50);
    assert.match(leg?.remote ?? '', /^127\.0\.0\.1:\d+$/);
    assert.ok((await metricValue(gw.metrics, 'sgw_rtcp_packets_received_total', { type: 'bye' })) >= 1);
  });

  test('/metrics serves the gateway metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${gw.addresses.http.port}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    for (const name of ['sgw_active_calls', 'sgw_rtp_packets_received_total', 'sgw_rtp_packets_dropped_total', 'sgw_asr_real_time_factor', 'sgw_intents_total', 'sgw_event_latency_seconds']) {
      assert.match(body, new RegExp(`^# TYPE ${name} `, 'm'));
    }
    assert.match(body, /^sgw_grpc_requests_total\{method="StartCall",code="INVALID_ARGUMENT"\} \d+/m);
  });
});

describe('admission control', () => {
  test('a call the recognisers have no capacity for is RESOURCE_EXHAUSTED; running calls and transcripts-only calls are unaffected', async () => {
    const small = await startTestGateway({ rtpPortMin: 42220, rtpPortMax: 42239, asrWorkers: 1, asrCapacityCores: 0.6, asrLegCost: 0.2 });
    try {
      await small.control.startCall(pcmuCall('first'));
      const refused = await rejection(small.control.startCall(pcmuCall('second')));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, /capacity: 2 legs running at ~0\.20 cores each; 2 more would need 0\.80 of 0\.60 cores/);
      assert.equal((await small.control.getCall('first')).state, 'active');
      // A one-leg call still fits; a call without audio needs no recogniser.
      await small.control.startCall(pcmuCall('one-leg', { legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] }));
      await small.control.startCall(pcmuCall('text-only', { transcripts_only: true }));
      await small.control.endCall('first');
      await small.control.endCall('one-leg');
      await small.control.startCall(pcmuCall('second'));
      await small.control.endCall('second');
      await small.control.endCall('text-only');
      assert.equal(await metricValue(small.metrics, 'sgw_grpc_requests_total', { method: 'StartCall', code: 'RESOURCE_EXHAUSTED' }), 1);
    } finally {
      await small.close();
    }
  });
});
