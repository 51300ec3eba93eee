/**
 * Two gateway processes and a real redis-server: one cluster. A call streamed
 * to instance B (gRPC StreamAudio, flite speech with an intent and a legal
 * threat) gives its transcript, intent and alert to a supervisor connected to
 * instance A, scoped to the supervisor's queue; a client that resumes on A
 * with a cursor it got from B misses nothing. A lists, gets and ends B's calls
 * (EndCall forwarded to B); `kill -9` of B ends B's calls on A's screens with
 * reason `instance-lost` and an alert.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { GatewayProcess } from '../../loadtest/GatewayProcess.js';
import { encodeL16 } from '../../src/audio/codecs/index.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import { TEST_SECRET, hsToken } from '../helpers/auth.js';
import type { StoredAlert } from '../../src/push/AlertStore.js';
import { EventRecorder } from '../helpers/gateway.js';
import { RedisServer } from '../helpers/redis.js';
import { chunks, concat, silence, synthesize } from '../helpers/speech.js';

let dir: string;
let redis: RedisServer;
let a: GatewayProcess;
let b: GatewayProcess;
const tokens: Record<string, string> = {};

function clusterEnv(instance: string, extra: Record<string, string>): Record<string, string> {
  return {
    JWT_SECRET: TEST_SECRET,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'cluster-test:',
    INSTANCE_ID: instance,
    CLUSTER_HEARTBEAT_MS: '300',
    CLUSTER_INSTANCE_TTL_MS: '1500',
    CALL_RECORDS_FILE: path.join(dir, `${instance}.jsonl`),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-cluster-'));
  redis = await RedisServer.start();
  // A serves clients only; B recognises the call.
  a = await GatewayProcess.start({ env: clusterEnv('gw-a', { ASR: 'none' }), rtpPortMin: 46700, rtpPortMax: 46709, logFile: path.join(dir, 'gw-a.log') });
  b = await GatewayProcess.start({ env: clusterEnv('gw-b', { ASR: 'pocketsphinx', ASR_WORKERS: '1', ASR_MODE: 'transcribe' }), rtpPortMin: 46710, rtpPortMax: 46719, logFile: path.join(dir, 'gw-b.log') });
  tokens['admin'] = await hsToken({ role: 'admin', subject: 'ops' });
  tokens['orders'] = await hsToken({ role: 'supervisor', subject: 'sam', queues: ['orders'] });
  tokens['delivery'] = await hsToken({ role: 'supervisor', subject: 'dee', queues: ['delivery'] });
});

after(async () => {
  await a.stop();
  await b.kill();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Streams `pcm` (16 kHz) in real time as the customer leg of a StreamAudio call, then ends the stream. */
async function streamCall(control: CallControl, callId: string, pcm: Int16Array): Promise<{ status: grpc.StatusObject; events: NonNullable<StreamAudioResponse__Output['event']>[] }> {
  const rate = 16000;
  const stream = control.streamAudio();
  const responses: StreamAudioResponse__Output[] = [];
  stream.on('data', (r: StreamAudioResponse__Output) => responses.push(r));
  stream.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
  stream.write({ start: { call_id: callId, agent_id: 'agent-7', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: rate }] } });
  const t0 = Date.now();
  let sent = 0;
  for (const chunk of chunks(pcm, rate)) {
    stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.from(encodeL16(chunk)) } });
    sent += chunk.length;
    const due = t0 + (sent / rate) * 1000 - Date.now();
    if (due > 0) await sleep(due);
  }
  stream.end();
  const final = await status;
  return { status: final, events: responses.filter((r) => r.event != null).map((r) => r.event as NonNullable<StreamAudioResponse__Output['event']>) };
}

describe('two gateways on one Redis stream', { timeout: 120_000 }, () => {
  test('a call on B: transcript, intent and alert reach a supervisor on A (scoped); a client resuming on A with a cursor from B misses nothing', async () => {
    const rate = 16000;
    const speech = concat(silence(300, rate), await synthesize('I would like to cancel my order. If this is not fixed today I will contact my lawyer.', { rate }), silence(1500, rate));
    const ordersOnA = await EventRecorder.connect(a.httpPort, `?access_token=${tokens['orders']}`);
    const deliveryOnA = await EventRecorder.connect(a.httpPort, `?access_token=${tokens['delivery']}`);
    const adminOnB = await EventRecorder.connect(b.httpPort, `?access_token=${tokens['admin']}`);
    const control = new CallControl(`127.0.0.1:${b.grpcPort}`, undefined, { token: tokens['admin'] });
    const callId = 'cluster-1';
    try {
      const call = await streamCall(control, callId, speech);
      assert.equal(call.status.code, grpc.status.OK, call.status.details);
      await adminOnB.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 10_000, 'call.summary on B');
      await ordersOnA.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 10_000, 'call.summary on A');

      const onA = ordersOnA.forCall(callId);
      const onB = adminOnB.forCall(callId);
      assert.ok(onA.some((e) => e.type === 'transcript' && e.final && /cancel/.test(e.text)), `a final transcript on A (got ${onA.map((e) => e.type).join(', ')})`);
      assert.ok(onA.some((e) => e.type === 'intent' && e.intent === 'cancel_order'), 'the cancel_order intent on A');
      assert.ok(onA.some((e) => e.type === 'alert' && e.severity === 'critical' && e.queue === 'orders'), 'the legal-threat alert on A');
      assert.deepEqual(onA.map((e) => e.eventId), onB.map((e) => e.eventId), "A's supervisor got every event of the call B's admin got, in the same order, with the same ids");
      assert.deepEqual(call.events.map((e) => e.event_cursor), onB.map((e) => e.eventId), 'the StreamAudio client on B too');
      assert.ok(onA.every((e) => /^\d+-\d+$/.test(e.eventId)), 'eventIds are stream ids');
      assert.deepEqual(deliveryOnA.forCall(callId), [], 'a supervisor of another queue sees nothing of it');

      // The cursor B's client had after call.started; the rest of the call is replayed on A.
      const cursor = onB[0]?.eventId ?? '';
      const resumed = await EventRecorder.connect(a.httpPort, `?since=${cursor}&access_token=${tokens['orders']}`);
      const lastId = onB.at(-1)?.eventId ?? '';
      await resumed.waitFor((e) => e.event.eventId === lastId, 10_000, 'the replay up to call.summary');
      assert.ok(!resumed.events.some((e) => (e.event.type as string) === 'resume.gap'), 'no gap');
      assert.deepEqual(resumed.forCall(callId).map((e) => e.eventId), onB.slice(1).map((e) => e.eventId), 'the replay on A holds everything after the cursor from B');
      resumed.close();
    } finally {
      control.close();
      ordersOnA.close();
      deliveryOnA.close();
      adminOnB.close();
    }
  });

  test('alerts in Redis: the alert raised on B, acknowledged through A, is acknowledged on A, on B and on a gateway started afterwards', async () => {
    const adminOnB = await EventRecorder.connect(b.httpPort, `?types=alert.ack&access_token=${tokens['admin']}`);
    const alerts = async (port: number, token: string): Promise<StoredAlert[]> => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/alerts`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { alerts: StoredAlert[] }).alerts;
    };
    const ack = (port: number, alertId: string, token: string): Promise<Response> => fetch(`http://127.0.0.1:${port}/v1/alerts/${alertId}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    let c: GatewayProcess | undefined;
    try {
      const raised = (await alerts(b.httpPort, tokens['orders'] ?? '')).filter((x) => x.callId === 'cluster-1');
      assert.ok(raised.length > 0, 'the alert of the call on B is listed on B');
      const alertId = raised[0]?.alertId ?? '';
      assert.deepEqual((await alerts(a.httpPort, tokens['orders'] ?? '')).map((x) => x.alertId), (await alerts(b.httpPort, tokens['orders'] ?? '')).map((x) => x.alertId), 'A lists the same alerts');
      assert.deepEqual(await alerts(a.httpPort, tokens['delivery'] ?? ''), [], 'scoped');

      const acked = await ack(a.httpPort, alertId, tokens['orders'] ?? '');
      assert.equal(acked.status, 200);
      assert.equal(((await acked.json()) as StoredAlert).ackedBy, 'sam');
      await adminOnB.waitFor((e) => e.event.type === 'alert.ack' && e.event.alertId === alertId, 5000, 'alert.ack on B');
      for (const port of [a.httpPort, b.httpPort]) {
        const shown = (await alerts(port, tokens['admin'] ?? '')).find((x) => x.alertId === alertId);
        assert.equal(shown?.ackedBy, 'sam', `acknowledged on ${port === a.httpPort ? 'A' : 'B'}`);
      }
      // The first acknowledgement in the cluster stands: a second one on B returns it, and publishes nothing.
      const again = await ack(b.httpPort, alertId, tokens['admin'] ?? '');
      assert.equal(((await again.json()) as StoredAlert).ackedBy, 'sam');
      await sleep(300);
      assert.equal(adminOnB.events.filter((e) => e.event.type === 'alert.ack').length, 1);

      // A gateway that joins afterwards saw none of it happen, and lists it acknowledged.
      c = await GatewayProcess.start({ env: clusterEnv('gw-c', { ASR: 'none' }), rtpPortMin: 46730, rtpPortMax: 46739, logFile: path.join(dir, 'gw-c.log') });
      const onC = (await alerts(c.httpPort, tokens['orders'] ?? '')).find((x) => x.alertId === alertId);
      assert.equal(onC?.ackedBy, 'sam', 'acknowledged on a gateway started afterwards');
      assert.deepEqual((await alerts(c.httpPort, tokens['orders'] ?? '')).map((x) => x.alertId), (await alerts(a.httpPort, tokens['orders'] ?? '')).map((x) => x.alertId));
    } finally {
      adminOnB.close();
      if (c !== undefined) assert.equal(await c.stop(), 0);
    }
  });

  test('A lists, gets and ends the calls of B; kill -9 of B: its call ends on A with reason instance-lost and an alert, scoped', async () => {
    const controlA = new CallControl(`127.0.0.1:${a.grpcPort}`, undefined, { token: tokens['admin'] });
    const controlB = new CallControl(`127.0.0.1:${b.grpcPort}`, undefined, { token: tokens['admin'] });
    const ordersOnA = await EventRecorder.connect(a.httpPort, `?access_token=${tokens['orders']}`);
    const deliveryOnA = await EventRecorder.connect(a.httpPort, `?access_token=${tokens['delivery']}`);
    try {
      const start = (callId: string, queue: string) =>
        controlB.startCall({ call_id: callId, agent_id: 'agent-7', queue, language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
      await start('on-b-orders', 'orders');
      await start('on-b-delivery', 'delivery');
      await start('on-b-ended-by-a', 'orders');
      await ordersOnA.waitFor((e) => e.event.callId === 'on-b-ended-by-a' && e.event.type === 'call.started', 5000, 'call.started on A');

      // The registry: A answers for B's calls, with the same scope.
      const listed = (await controlA.listCalls()).calls.map((c) => c.call_id).sort();
      assert.deepEqual(listed, ['on-b-delivery', 'on-b-ended-by-a', 'on-b-orders']);
      const res = await fetch(`http://127.0.0.1:${a.httpPort}/v1/calls`, { headers: { authorization: `Bearer ${tokens['orders']}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-sgw-event-origin'), '0-0', 'the origin of the stream, for pages that replay all of it');
      assert.deepEqual(((await res.json()) as { callId: string }[]).map((c) => c.callId).sort(), ['on-b-ended-by-a', 'on-b-orders'], 'GET /v1/calls on A: B\'s calls in the supervisor\'s queue');
      const got = await controlA.getCall('on-b-orders');
      assert.equal(got.state, 'active');
      assert.equal(got.queue, 'orders');
      const supervisorA = new CallControl(`127.0.0.1:${a.grpcPort}`, undefined, { token: tokens['delivery'] });
      await assert.rejects(supervisorA.getCall('on-b-orders'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND, 'out of scope reads as unknown');
      supervisorA.close();

      // EndCall on A of a call B has: forwarded, answered once B ended it.
      const ended = await controlA.endCall('on-b-ended-by-a');
      assert.equal(ended?.state, 'ended');
      assert.equal(ended?.end_reason, 'ended-by-request');
      await ordersOnA.waitFor((e) => e.event.callId === 'on-b-ended-by-a' && e.event.type === 'call.summary', 5000, 'the forwarded end, on A');
      await assert.rejects(controlA.endCall('nowhere'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);

      // B dies without a word.
      await b.kill();
      const lost = await ordersOnA.waitFor((e) => e.event.callId === 'on-b-orders' && e.event.type === 'call.ended', 15_000, 'call.ended of the lost call on A');
      assert.ok(lost.event.type === 'call.ended' && lost.event.reason === 'instance-lost', JSON.stringify(lost.event));
      const alert = await ordersOnA.waitFor((e) => e.event.callId === 'on-b-orders' && e.event.type === 'alert', 5000, 'the alert of the lost call');
      assert.ok(alert.event.type === 'alert' && alert.event.source === 'instance-lost' && alert.event.severity === 'critical' && /gw-b/.test(alert.event.message), JSON.stringify(alert.event));
      await deliveryOnA.waitFor((e) => e.event.callId === 'on-b-delivery' && e.event.type === 'call.ended', 5000, 'the delivery call ends for its supervisor');
      assert.deepEqual(ordersOnA.forCall('on-b-delivery'), [], 'scoped: the orders supervisor sees nothing of the delivery call');
      await sleep(1000);
      const endings = ordersOnA.events.filter((e) => e.event.callId === 'on-b-orders' && e.event.type === 'call.ended');
      assert.equal(endings.length, 1, 'ended once, by one survivor');
      const afterLoss = await controlA.getCall('on-b-orders');
      assert.equal(afterLoss.state, 'ended');
      assert.equal(afterLoss.end_reason, 'instance-lost');
      assert.deepEqual((await controlA.listCalls()).calls, [], 'no call of B is listed any more');
    } finally {
      controlA.close();
      controlB.close();
      ordersOnA.close();
      deliveryOnA.close();
    }
  });
});
