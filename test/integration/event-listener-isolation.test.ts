/**
 * A subscriber of the event bus that throws on every event, on a real
 * gateway, during a real call streamed over gRPC StreamAudio: the leg goes on
 * being recognised, the call's intent reaches a /v1/events client and the
 * StreamAudio client (whose listener subscribes after the thrower), the
 * throws are counted per listener and logged once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { encodeL16 } from '../../src/audio/codecs/index.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { chunks, concat, silence, synthesize } from '../helpers/speech.js';

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 46600, rtpPortMax: 46609, asrWorkers: 1, asrMode: 'transcribe' });
});

after(async () => {
  await gw.close();
});

describe('event listener isolation', { timeout: 60_000 }, () => {
  test('a listener throwing on every event: recognition goes on, the intent reaches /v1/events and the StreamAudio client', async () => {
    let thrown = 0;
    const unsubscribe = gw.gateway.hub.subscribe(() => {
      thrown += 1;
      throw new Error('a broken subscriber');
    }, 'test-thrower');
    const events = await EventRecorder.connect(gw.addresses.http.port);
    const rate = 16000;
    const speech = concat(silence(300, rate), await synthesize('I would like to cancel my order please', { rate }), silence(1200, rate));
    const callId = 'isolation-1';
    const stream = gw.control.streamAudio();
    const responses: StreamAudioResponse__Output[] = [];
    stream.on('data', (r: StreamAudioResponse__Output) => responses.push(r));
    stream.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    try {
      stream.write({ start: { call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: rate }] } });
      const t0 = Date.now();
      let sent = 0;
      for (const chunk of chunks(speech, rate)) {
        stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.from(encodeL16(chunk)) } });
        sent += chunk.length;
        const due = t0 + (sent / rate) * 1000 - Date.now();
        if (due > 0) await sleep(due);
      }
      const intent = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 20_000, 'cancel_order on /v1/events');
      stream.end();
      const final = await status;
      assert.equal(final.code, grpc.status.OK, final.details);

      const streamed = responses.filter((r) => r.event != null).map((r) => r.event as NonNullable<StreamAudioResponse__Output['event']>);
      assert.ok(streamed.some((e) => e.type === 'intent' && e.intent === 'cancel_order' && e.event_cursor === intent.event.eventId), 'the intent on the StreamAudio stream too');
      assert.equal(streamed.at(-1)?.type, 'call.summary', 'the call ended normally');
      const mine = events.forCall(callId);
      assert.ok(thrown >= mine.length, `the thrower was called for every event (${thrown} throws, ${mine.length} events)`);
      assert.equal(await metricValue(gw.metrics, 'sgw_event_listener_errors_total', { listener: 'test-thrower' }), thrown);
      // Every throw was an occurrence of the log line; all but the first were suppressed.
      assert.equal(await metricValue(gw.metrics, 'sgw_log_occurrences_total', { reason: 'event-listener-error' }), thrown);
      assert.equal(await metricValue(gw.metrics, 'sgw_log_suppressed_total', { reason: 'event-listener-error' }), thrown - 1);
    } finally {
      unsubscribe();
      stream.cancel();
      events.close();
    }
  });
});
