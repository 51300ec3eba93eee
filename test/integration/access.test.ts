/**
 * Who may see what, on real sockets: bearer tokens on HTTP, WebSocket and
 * gRPC; agents see their own calls, supervisors their queues, admins all;
 * refusals are 401/403 (UNAUTHENTICATED/PERMISSION_DENIED) and counted;
 * alerts are listed and acknowledged in scope. Transcripts-only calls fed by
 * PushTranscript (no audio, no ASR work).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { StoredAlert } from '../../src/push/AlertStore.js';
import { compareEventIds } from '../../src/push/EventCursor.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let base: string;
const tokens: Record<string, string> = {};

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 43410, rtpPortMax: 43419, asrWorkers: 1, rtpTimeoutMs: 20_000, jwtSecret: TEST_SECRET });
  base = `http://127.0.0.1:${gw.addresses.http.port}`;
  tokens['agentA'] = await hsToken({ role: 'agent', agentId: 'agent-a' });
  tokens['agentB'] = await hsToken({ role: 'agent', agentId: 'agent-b' });
  tokens['orders'] = await hsToken({ role: 'supervisor', subject: 'sup-orders', queues: ['orders'] });
  tokens['delivery'] = await hsToken({ role: 'supervisor', subject: 'sup-delivery', queues: ['delivery'] });
  tokens['admin'] = await hsToken({ role: 'admin' });
  tokens['pbx'] = await hsToken({ role: 'pbx', subject: 'pbx-1' });
  tokens['expired'] = await hsToken({ role: 'admin', ttl: '1s' });
});

after(async () => {
  await gw.close();
});

const get = (path: string, token?: string): Promise<Response> => fetch(`${base}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

const push = (callId: string, role: 'LEG_ROLE_CUSTOMER' | 'LEG_ROLE_AGENT', utteranceId: number, text: string, startMs: number) =>
  new Promise<void>((resolve, reject) =>
    gw.control.raw.PushTranscript({ call_id: callId, role, text, final: true, utterance_id: utteranceId, start_ms: startMs, end_ms: startMs + 2000 }, (err) => (err ? reject(err) : resolve())),
  );

const startPushCall = (callId: string, agentId: string, queue: string) =>
  gw.control.startCall({ call_id: callId, agent_id: agentId, queue, language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });

/** The HTTP status a WebSocket upgrade is refused with (or 101 when it opens). */
async function upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<{ status: number; wwwAuthenticate: string | undefined }> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.addresses.http.port}${path}`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, wwwAuthenticate: undefined });
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, wwwAuthenticate: res.headers['www-authenticate'] });
      ws.terminate();
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

async function grpcRefusal(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  assert.fail('expected a refusal');
}

const byCall = (recorder: EventRecorder): string[] => [...new Set(recorder.events.map((e) => e.event.callId))].sort();

describe('access', { timeout: 60_000 }, () => {
  test('HTTP: /v1/calls needs a token (401 with WWW-Authenticate), is scoped, and refusals are counted; /metrics, /healthz and the pages are open', async () => {
    await startPushCall('acc-a', 'agent-a', 'orders');
    await startPushCall('acc-b', 'agent-b', 'delivery');

    const missing = await get('/v1/calls');
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm="speech-gateway"$/);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'SGW_UNAUTHENTICATED');
    const invalid = await get('/v1/calls', 'garbage');
    assert.equal(invalid.status, 401);
    assert.match(invalid.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await get('/v1/calls', tokens['expired']);
    assert.equal(expired.status, 401);
    assert.match(((await expired.json()) as { error: { message: string } }).error.message, /expired/);

    const ids = async (token: string | undefined): Promise<string[]> => {
      const res = await get('/v1/calls', token);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('x-sgw-event-cursor') ?? '', /^\d+-[1-9]\d*$/, 'snapshot carries the event cursor');
      return ((await res.json()) as { callId: string }[]).map((c) => c.callId).sort();
    };
    assert.deepEqual(await ids(tokens['agentA']), ['acc-a']);
    assert.deepEqual(await ids(tokens['agentB']), ['acc-b']);
    assert.deepEqual(await ids(tokens['orders']), ['acc-a']);
    assert.deepEqual(await ids(tokens['delivery']), ['acc-b']);
    assert.deepEqual(await ids(tokens['admin']), ['acc-a', 'acc-b']);

    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'http', reason: 'missing' }), 1);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'http', reason: 'invalid' }), 1);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'http', reason: 'expired' }), 1);

    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/metrics')).status, 200);
    for (const page of ['/', '/agent', '/supervisor']) {
      const res = await get(page);
      assert.equal(res.status, 200, page);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const etag = res.headers.get('etag') ?? '';
      const again = await fetch(`${base}${page}`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304, 'revalidation');
    }
    assert.equal((await get('/assets/agent.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await get('/assets/../package.json')).status, 404);
  });

  test('WebSocket: the upgrade is refused with 401 before upgrading, 403 for a pbx token; a call out of scope is accepted like an unknown one', async () => {
    const missing = await upgradeStatus('/v1/events');
    assert.equal(missing.status, 401);
    assert.match(missing.wwwAuthenticate ?? '', /Bearer/);
    assert.equal((await upgradeStatus('/v1/events?access_token=garbage')).status, 401);
    assert.equal((await upgradeStatus('/v1/events', { authorization: `Bearer ${tokens['agentA']}` })).status, 101, 'Authorization header works too');
    assert.equal((await upgradeStatus(`/v1/events?access_token=${tokens['pbx']}`)).status, 403);
    // Scope filters every event, so these deliver nothing; refusing them would tell that the call exists.
    assert.equal((await upgradeStatus(`/v1/events?callId=acc-b&access_token=${tokens['agentA']}`)).status, 101, "another agent's call");
    assert.equal((await upgradeStatus(`/v1/events?callId=acc-b&access_token=${tokens['orders']}`)).status, 101, "another queue's call");
    assert.equal((await upgradeStatus(`/v1/events?callId=acc-a&access_token=${tokens['agentA']}`)).status, 101, 'own call');
    assert.equal((await upgradeStatus(`/v1/transcripts?access_token=${tokens['agentA']}`)).status, 403, 'transcript ingest is control plane');
    assert.equal((await upgradeStatus(`/v1/transcripts?access_token=${tokens['pbx']}`)).status, 101);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'missing' }), 1);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' }), 1);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'forbidden' }), 2);
  });

  test('events: an agent gets only its calls, a supervisor only its queues, an admin all; since resumes', async () => {
    const port = gw.addresses.http.port;
    const recorders = {
      agentA: await EventRecorder.connect(port, `?access_token=${tokens['agentA']}`),
      agentB: await EventRecorder.connect(port, `?access_token=${tokens['agentB']}`),
      orders: await EventRecorder.connect(port, `?access_token=${tokens['orders']}`),
      delivery: await EventRecorder.connect(port, `?access_token=${tokens['delivery']}`),
      admin: await EventRecorder.connect(port, `?access_token=${tokens['admin']}`),
    };
    const cursor = gw.gateway.hub.cursor;
    await push('acc-a', 'LEG_ROLE_CUSTOMER', 1, 'i want to cancel my order number four five six seven', 1000);
    await push('acc-b', 'LEG_ROLE_CUSTOMER', 1, 'where is my order', 1000);
    await push('acc-b', 'LEG_ROLE_AGENT', 2, 'let me check the tracking', 3000);
    for (const r of Object.values(recorders)) await r.waitFor((e) => e.event.callId === 'acc-b' || e.event.callId === 'acc-a', 2000).catch(() => undefined);
    await recorders.admin.waitFor((e) => e.event.callId === 'acc-b' && e.event.type === 'transcript' && e.event.leg === 'agent', 2000);
    await recorders.agentA.waitFor((e) => e.event.type === 'prompt', 2000);
    await new Promise((r) => setTimeout(r, 200));

    assert.deepEqual(byCall(recorders.agentA), ['acc-a']);
    assert.deepEqual(byCall(recorders.agentB), ['acc-b']);
    assert.deepEqual(byCall(recorders.orders), ['acc-a']);
    assert.deepEqual(byCall(recorders.delivery), ['acc-b']);
    assert.deepEqual(byCall(recorders.admin), ['acc-a', 'acc-b']);
    const prompt = recorders.agentA.events.find((e) => e.event.type === 'prompt')?.event;
    assert.ok(prompt?.type === 'prompt' && prompt.entities.some((e) => e.type === 'order_number' && e.value === '4567'), JSON.stringify(prompt));

    // Resume: a client that left at `cursor` gets exactly what the admin saw after it, in order, scoped.
    const adminIds = recorders.admin.events.map((e) => e.event.eventId).filter((id) => compareEventIds(id, cursor) > 0);
    const resumed = await EventRecorder.connect(port, `?since=${cursor}&access_token=${tokens['admin']}`);
    await resumed.waitFor((e) => e.event.eventId === adminIds[adminIds.length - 1], 2000, 'replay');
    assert.deepEqual(resumed.events.map((e) => e.event.eventId), adminIds);
    const resumedAgentB = await EventRecorder.connect(port, `?since=${cursor}&access_token=${tokens['agentB']}`);
    await resumedAgentB.waitFor((e) => e.event.type === 'transcript' && e.event.leg === 'agent', 2000, 'replay');
    assert.deepEqual(byCall(resumedAgentB), ['acc-b']);
    for (const r of [...Object.values(recorders), resumed, resumedAgentB]) r.close();
  });

  test('alerts: listed in scope, acknowledged by a supervisor of the queue (404 out of scope, 403 for an agent of the call), alert.ack reaches other screens', async () => {
    const port = gw.addresses.http.port;
    const ordersWall = await EventRecorder.connect(port, `?types=alert,alert.ack&access_token=${tokens['orders']}`);
    await push('acc-a', 'LEG_ROLE_CUSTOMER', 2, 'this is ridiculous i will contact my lawyer', 4000);
    // The legal threat raises a critical alert (and the escalation it drives may raise more).
    const raised = await ordersWall.waitFor((e) => e.event.type === 'alert' && e.event.severity === 'critical', 2000, 'alert');
    assert.ok(raised.event.type === 'alert');
    const alertId = raised.event.alertId;
    await new Promise((r) => setTimeout(r, 100));
    const raisedIds = ordersWall.events.filter((e) => e.event.type === 'alert').map((e) => (e.event.type === 'alert' ? e.event.alertId : ''));

    assert.equal((await get('/v1/alerts')).status, 401);
    const list = async (token: string | undefined, query = '?unacked=1'): Promise<StoredAlert[]> => {
      const res = await get(`/v1/alerts${query}`, token);
      assert.equal(res.status, 200);
      return ((await res.json()) as { alerts: StoredAlert[] }).alerts;
    };
    assert.deepEqual((await list(tokens['orders'])).map((a) => a.alertId), raisedIds);
    assert.deepEqual(await list(tokens['delivery']), []);
    assert.deepEqual(await list(tokens['agentB']), []);

    const ack = (token: string | undefined, id = alertId): Promise<Response> =>
      fetch(`${base}/v1/alerts/${id}/ack`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const forbiddenBefore = await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'http', reason: 'forbidden' });
    assert.equal((await ack(undefined)).status, 401);
    assert.equal((await ack(tokens['delivery'])).status, 404, 'another queue: as unknown');
    assert.equal((await ack(tokens['agentA'])).status, 403, 'agents do not acknowledge');
    assert.equal((await ack(tokens['orders'], '00000000-0000-0000-0000-000000000000')).status, 404);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'http', reason: 'forbidden' }), forbiddenBefore + 1);
    const done = await ack(tokens['orders']);
    assert.equal(done.status, 200);
    const acked = (await done.json()) as StoredAlert;
    assert.equal(acked.ackedBy, 'sup-orders');
    assert.ok(typeof acked.ackedAt === 'number');
    const ackEvent = await ordersWall.waitFor((e) => e.event.type === 'alert.ack', 2000, 'alert.ack');
    assert.ok(ackEvent.event.type === 'alert.ack' && ackEvent.event.alertId === alertId && ackEvent.event.ackedBy === 'sup-orders');
    assert.deepEqual((await list(tokens['orders'])).map((a) => a.alertId), raisedIds.filter((id) => id !== alertId), 'no longer unacknowledged');
    assert.equal((await list(tokens['orders'], '')).find((a) => a.alertId === alertId)?.ackedBy, 'sup-orders');
    const again = (await (await ack(tokens['admin'])).json()) as StoredAlert;
    assert.equal(again.ackedBy, 'sup-orders', 'idempotent: the first acknowledgement stands');
    assert.equal(await metricValue(gw.metrics, 'sgw_alerts_acknowledged_total'), 1);
    ordersWall.close();
  });

  test('gRPC: UNAUTHENTICATED without a valid token, PERMISSION_DENIED out of role, NOT_FOUND out of scope, counted', async () => {
    const address = `127.0.0.1:${gw.addresses.grpcPort}`;
    const anonymous = new CallControl(address);
    const agentA = new CallControl(address, undefined, { token: tokens['agentA'] ?? '' });
    const orders = new CallControl(address, undefined, { token: tokens['orders'] ?? '' });
    const pbx = new CallControl(address, undefined, { token: tokens['pbx'] ?? '' });
    const bad = new CallControl(address, undefined, { token: 'garbage' });
    try {
      const before = await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'grpc', reason: 'forbidden' });
      const unauthenticated = await grpcRefusal(anonymous.listCalls());
      assert.equal(unauthenticated.code, grpc.status.UNAUTHENTICATED);
      assert.match(unauthenticated.details, /bearer token/);
      assert.equal((await grpcRefusal(bad.getCall('acc-a'))).code, grpc.status.UNAUTHENTICATED);
      const denied = await grpcRefusal(agentA.startCall({ call_id: 'acc-x', agent_id: 'agent-a', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] }));
      assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
      assert.match(denied.details, /admin or pbx/);
      assert.equal((await grpcRefusal(agentA.endCall('acc-a'))).code, grpc.status.PERMISSION_DENIED);
      assert.equal((await grpcRefusal(agentA.getCall('acc-b'))).code, grpc.status.NOT_FOUND, "another agent's call: as unknown");
      assert.equal((await agentA.getCall('acc-a')).call_id, 'acc-a');
      assert.deepEqual((await orders.listCalls()).calls.map((c) => c.call_id), ['acc-a']);
      assert.deepEqual((await pbx.listCalls()).calls.map((c) => c.call_id).sort(), ['acc-a', 'acc-b']);
      await pbx.startCall({ call_id: 'acc-pbx', agent_id: 'agent-c', queue: 'billing', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
      await pbx.endCall('acc-pbx');
      assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'grpc', reason: 'missing' }), 1);
      assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'grpc', reason: 'invalid' }), 1);
      assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'grpc', reason: 'forbidden' }), before + 2);
      assert.equal(await metricValue(gw.metrics, 'sgw_grpc_requests_total', { method: 'StartCall', code: 'PERMISSION_DENIED' }), 1);
    } finally {
      for (const client of [anonymous, agentA, orders, pbx, bad]) client.close();
    }
  });

  test('/v1/calls shows the contact reason so far and the escalation level', async () => {
    const res = await get('/v1/calls', tokens['orders']);
    const [call] = (await res.json()) as { callId: string; contactReason: string; escalationLevel: string }[];
    assert.equal(call?.callId, 'acc-a');
    assert.equal(call?.contactReason, 'cancel_order');
    assert.notEqual(call?.escalationLevel, 'calm');
    await gw.control.endCall('acc-a');
    await gw.control.endCall('acc-b');
  });
});
