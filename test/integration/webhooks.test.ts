/**
 * Webhooks end to end, with real HTTP receivers (node:http in the test) and
 * signatures checked by the Standard Webhooks reference library
 * (`standardwebhooks`, not the gateway's code):
 *
 * - deliveries are signed per Standard Webhooks and go only to the
 *   subscriptions whose event types and queues they match;
 * - a receiver that answers 500 and then recovers gets every event once,
 *   in each call's order;
 * - a receiver that hangs on one call delays neither the live path
 *   (/v1/events), nor its other calls, nor other subscriptions;
 * - after WEBHOOK_MAX_ATTEMPTS a delivery is a dead letter, listed and
 *   redelivered by the admin API, which only an admin may use;
 * - subscriptions created by the admin API receive events signed with the
 *   secret it returned, and bad requests get 400/404/409;
 * - a restart of a real gateway process (SIGTERM) loses nothing queued:
 *   the next process delivers it, in order, then what comes after.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GatewayProcess } from '../../loadtest/GatewayProcess.js';
import type { GatewayConfig } from '../../src/config.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { newWebhookSecret } from '../../src/webhooks/signature.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { verifyStandardWebhook, WebhookReceiver, type WebhookBody } from '../helpers/webhookReceiver.js';

let dir: string;
const receivers: WebhookReceiver[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-webhooks-'));
});

after(async () => {
  for (const receiver of receivers) await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start();
  receivers.push(r);
  return r;
}

interface HookSpec {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly types?: readonly string[];
  readonly queues?: readonly string[];
}

async function subscriptionFile(name: string, hooks: readonly HookSpec[]): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  // JSON is YAML: the file is written as the docs show it would be read.
  await writeFile(file, JSON.stringify({ subscriptions: hooks }, null, 2));
  return file;
}

/** A gateway without ASR (transcripts pushed over gRPC), webhooks on a journal of its own. */
async function gatewayWith(name: string, overrides: Partial<GatewayConfig>, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  return startTestGateway(
    {
      rtpPortMin: 48900,
      rtpPortMax: 48909,
      asr: 'none',
      webhooksJournal: path.join(dir, `${name}.journal`),
      webhookRetryBaseMs: 20,
      webhookRetryMaxMs: 200,
      ...overrides,
    },
    env,
  );
}

/** A transcripts-only call: started, `texts` pushed as final customer utterances, ended. */
async function playCall(control: CallControl, callId: string, queue: string, texts: readonly string[]): Promise<void> {
  await control.startCall({ call_id: callId, agent_id: 'agent-1', queue, language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
  for (const [i, text] of texts.entries()) {
    await new Promise<void>((resolve, reject) =>
      control.raw.PushTranscript({ call_id: callId, role: 'LEG_ROLE_CUSTOMER', text, final: true, utterance_id: i + 1, start_ms: i * 3000, end_ms: i * 3000 + 2000 }, (err) => (err ? reject(err) : resolve())),
    );
  }
  await control.endCall(callId);
}

const TEXTS = ['hello i want to cancel my order', 'the order number is four five six seven', 'thank you'];
const seqOf = (eventId: string): number => Number(eventId.split('-')[1]);
const ofCall = (bodies: readonly WebhookBody[], callId: string): WebhookBody[] => bodies.filter((b) => b.data.callId === callId);
const done = (bodies: readonly WebhookBody[], callId: string): boolean => bodies.some((b) => b.data.callId === callId && b.type === 'call.summary');

/** Each call's events in strictly increasing publication order. */
function assertOrderedPerCall(bodies: readonly WebhookBody[], what: string): void {
  const last = new Map<string, number>();
  for (const body of bodies) {
    const seq = seqOf(body.data.eventId);
    const before = last.get(body.data.callId) ?? 0;
    assert.ok(seq > before, `${what}: ${body.data.callId} event ${body.data.eventId} (${body.type}) after seq ${before}`);
    last.set(body.data.callId, seq);
  }
}

/** Polls `read` until it returns `expected` (the gateway counts a delivery once the receiver's answer reached it). */
async function eventually<T>(read: () => Promise<T>, expected: T, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value === expected) return;
    if (Date.now() > deadline) assert.fail(`${what}: ${String(value)}, expected ${String(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function api(gw: TestGateway, method: string, pathname: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${gw.addresses.http.port}${pathname}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('webhooks', { timeout: 120_000 }, () => {
  test('deliveries are signed per Standard Webhooks and follow each subscription’s event types and queues', async () => {
    const r = await receiver();
    const all = { id: 'crm', url: r.url('/all'), secret: newWebhookSecret(), queues: ['orders'] };
    const some = { id: 'bi', url: r.url('/some'), secret: newWebhookSecret(), types: ['call.started', 'call.ended'], queues: ['delivery'] };
    const gw = await gatewayWith('signed', { webhooksFile: await subscriptionFile('signed', [all, some]) });
    try {
      const events = await EventRecorder.connect(gw.addresses.http.port);
      await playCall(gw.control, 'orders-1', 'orders', TEXTS);
      await playCall(gw.control, 'delivery-1', 'delivery', TEXTS);
      await r.until(() => done(r.accepted('/all'), 'orders-1') && r.accepted('/some').length >= 2, 10_000, 'both subscriptions served');
      await events.waitFor((e) => e.event.callId === 'delivery-1' && e.event.type === 'call.summary', 5000, 'the live events');
      const live = events.forCall('orders-1').map((e) => e.eventId);
      events.close();

      // Every request verifies with the reference library, with its own subscription's secret only.
      for (const request of r.requests) {
        const secret = request.path === '/all' ? all.secret : some.secret;
        const other = request.path === '/all' ? some.secret : all.secret;
        assert.doesNotThrow(() => verifyStandardWebhook(secret, request), `${request.path} verifies`);
        assert.throws(() => verifyStandardWebhook(other, request), /signature/i, 'another secret does not verify');
        assert.throws(() => verifyStandardWebhook(secret, { ...request, body: request.body.replace('"callId"', '"callID"') }), /signature/i, 'a tampered body does not verify');
        assert.equal(request.headers['content-type'], 'application/json');
        assert.match(String(request.headers['webhook-id']), /^msg_\d+-\d+$/);
      }
      // /all: every event of the orders call, exactly as /v1/events had them, none of the delivery call.
      const allBodies = r.accepted('/all');
      assert.deepEqual(allBodies.map((b) => b.data.eventId), live, 'the orders call, every event in order');
      assert.ok(allBodies.every((b) => b.type === b.data.type && b.timestamp === new Date(b.data['ts'] as number).toISOString()), 'the Standard Webhooks envelope');
      // /some: only the two types, only the delivery queue.
      assert.deepEqual(
        r.accepted('/some').map((b) => `${b.data.callId} ${b.type}`),
        ['delivery-1 call.started', 'delivery-1 call.ended'],
      );
      await eventually(() => metricValue(gw.metrics, 'sgw_webhook_deliveries_total', { subscription: 'crm', outcome: 'delivered' }), live.length, 'delivered');
      await eventually(() => metricValue(gw.metrics, 'sgw_webhook_queue_depth', { subscription: 'crm' }), 0, 'queue depth');
    } finally {
      await gw.close();
    }
  });

  test('a receiver that answers 500 and then recovers gets every event once, in each call’s order', async () => {
    const r = await receiver();
    const hook = { id: 'flaky', url: r.url(), secret: newWebhookSecret() };
    let failing = true;
    r.answer = () => (failing ? 500 : 200);
    const gw = await gatewayWith('flaky', { webhooksFile: await subscriptionFile('flaky', [hook]), webhookMaxAttempts: 1000 });
    try {
      const events = await EventRecorder.connect(gw.addresses.http.port);
      // Three calls at once, their events interleaved on the hub.
      await Promise.all(['a', 'b', 'c'].map((id) => playCall(gw.control, `flaky-${id}`, 'orders', TEXTS)));
      await r.until(() => r.requests.filter((q) => q.answer === 500).length >= 12, 10_000, 'failed attempts');
      failing = false;
      await r.until(() => ['a', 'b', 'c'].every((id) => done(r.accepted(), `flaky-${id}`)), 20_000, 'every call delivered');
      const published = events.events.map((e) => e.event.eventId);
      events.close();

      const accepted = r.accepted();
      assert.deepEqual([...accepted.map((b) => b.data.eventId)].sort(), [...published].sort(), 'every event, once');
      assertOrderedPerCall(accepted, 'accepted');
      // Retries repeat the message id (the receiver's deduplication key) and are signed anew.
      for (const request of r.requests) assert.doesNotThrow(() => verifyStandardWebhook(hook.secret, request));
      assert.ok((await metricValue(gw.metrics, 'sgw_webhook_deliveries_total', { subscription: 'flaky', outcome: 'retried' })) >= 12);
      await eventually(() => metricValue(gw.metrics, 'sgw_webhook_deliveries_total', { subscription: 'flaky', outcome: 'delivered' }), published.length, 'delivered');
    } finally {
      await gw.close();
    }
  });

  test('a receiver that hangs on one call delays neither the live path, nor its other calls, nor other subscribers', async () => {
    const r = await receiver();
    const slow = { id: 'slow', url: r.url('/slow'), secret: newWebhookSecret() };
    const fast = { id: 'fast', url: r.url('/fast'), secret: newWebhookSecret() };
    r.answer = (body, pathname) => (pathname === '/slow' && body.data.callId === 'stuck' ? 'hang' : 204);
    const gw = await gatewayWith('hang', { webhooksFile: await subscriptionFile('hang', [slow, fast]), webhookTimeoutMs: 60_000 });
    try {
      const events = await EventRecorder.connect(gw.addresses.http.port);
      await playCall(gw.control, 'stuck', 'orders', TEXTS);
      await playCall(gw.control, 'free', 'orders', TEXTS);
      // The live path had the whole stuck call, whatever the slow receiver does.
      await events.waitFor((e) => e.event.callId === 'stuck' && e.event.type === 'call.summary', 5000, 'the stuck call live');
      await r.until(() => done(r.accepted('/slow'), 'free') && done(r.accepted('/fast'), 'stuck') && done(r.accepted('/fast'), 'free'), 10_000, 'the other call and the other subscriber');
      const stuckLive = events.forCall('stuck').map((e) => e.eventId);
      const freeLive = events.forCall('free').map((e) => e.eventId);
      events.close();

      assert.deepEqual(ofCall(r.accepted('/fast'), 'stuck').map((b) => b.data.eventId), stuckLive, 'the other subscriber got the stuck call whole');
      assert.deepEqual(ofCall(r.accepted('/slow'), 'free').map((b) => b.data.eventId), freeLive, 'the slow subscriber got its other call whole');
      // The stuck call's first event is still waiting for its answer, and nothing of that call overtook it.
      const stuckRequests = r.requests.filter((q) => q.path === '/slow' && (JSON.parse(q.body) as WebhookBody).data.callId === 'stuck');
      assert.deepEqual(stuckRequests.map((q) => (JSON.parse(q.body) as WebhookBody).type), ['call.started']);
      const listed = await api(gw, 'GET', '/v1/admin/webhooks');
      const slowView = (listed.json['subscriptions'] as Record<string, unknown>[]).find((s) => s['id'] === 'slow');
      assert.equal(slowView?.['queueDepth'], stuckLive.length, 'the stuck call waits in the queue');
      assert.equal(slowView?.['callsInFlight'], 1);
    } finally {
      await gw.close();
    }
  });

  test('after WEBHOOK_MAX_ATTEMPTS a delivery is a dead letter, listed and redelivered by the admin API (admin only)', async () => {
    const r = await receiver();
    const hook = { id: 'dead', url: r.url(), secret: newWebhookSecret(), types: ['call.started', 'call.ended'] };
    let status = 503;
    r.answer = () => status;
    const gw = await gatewayWith('dead', { webhooksFile: await subscriptionFile('dead', [hook]), webhookMaxAttempts: 3, jwtSecret: TEST_SECRET });
    const admin = await hsToken({ role: 'admin', subject: 'ops' });
    const supervisor = await hsToken({ role: 'supervisor', subject: 'sup', queues: ['orders'] });
    try {
      await playCall(gw.control, 'dl-1', 'orders', TEXTS);
      await r.until(() => r.requests.length >= 6, 10_000, 'three attempts of each event');
      const deadline = Date.now() + 5000;
      let view: Record<string, unknown> | undefined;
      while (Date.now() < deadline) {
        const listed = await api(gw, 'GET', '/v1/admin/webhooks', undefined, admin);
        view = (listed.json['subscriptions'] as Record<string, unknown>[])[0];
        if (view?.['deadLetters'] === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(view?.['deadLetters'], 2);
      assert.equal(view?.['queueDepth'], 0);
      assert.equal(view?.['failedAttempts'], 6);
      assert.equal((view?.['lastFailure'] as Record<string, unknown> | null)?.['error'], 'HTTP 503');
      assert.equal(r.requests.length, 6, 'no fourth attempt');
      assert.equal(await metricValue(gw.metrics, 'sgw_webhook_dead_letters', { subscription: 'dead' }), 2);
      assert.equal(await metricValue(gw.metrics, 'sgw_webhook_deliveries_total', { subscription: 'dead', outcome: 'dead_letter' }), 2);

      assert.equal((await api(gw, 'GET', '/v1/admin/webhooks')).status, 401, 'no token');
      assert.equal((await api(gw, 'GET', '/v1/admin/webhooks', undefined, supervisor)).status, 403, 'not an admin');
      assert.equal((await api(gw, 'GET', '/v1/admin/webhooks/dead/dead-letters', undefined, supervisor)).status, 403);

      const letters = (await api(gw, 'GET', '/v1/admin/webhooks/dead/dead-letters', undefined, admin)).json['deadLetters'] as Record<string, unknown>[];
      assert.deepEqual(letters.map((l) => [l['callId'], l['eventType'], l['attempts'], l['lastError']]), [
        ['dl-1', 'call.started', 3, 'HTTP 503'],
        ['dl-1', 'call.ended', 3, 'HTTP 503'],
      ]);
      status = 200;
      for (const letter of letters) {
        const answer = await api(gw, 'POST', `/v1/admin/webhooks/dead/dead-letters/${encodeURIComponent(String(letter['id']))}/redeliver`, undefined, admin);
        assert.equal(answer.status, 202);
      }
      await r.until(() => r.accepted().length === 2, 5000, 'the redelivered dead letters');
      assert.deepEqual(r.accepted().map((b) => b.type), ['call.started', 'call.ended'], 'redelivered in the order asked');
      const again = await api(gw, 'POST', `/v1/admin/webhooks/dead/dead-letters/${encodeURIComponent(String(letters[0]?.['id']))}/redeliver`, undefined, admin);
      assert.equal(again.status, 404, 'a dead letter is redelivered once');
      assert.equal((again.json['error'] as Record<string, unknown>)['code'], 'SGW_WEBHOOK_NOT_FOUND');
      await eventually(() => metricValue(gw.metrics, 'sgw_webhook_dead_letters', { subscription: 'dead' }), 0, 'dead letters');
    } finally {
      await gw.close();
    }
  });

  test('the admin API creates and deletes subscriptions; the secret it returns verifies the deliveries; bad requests are refused', async () => {
    const r = await receiver();
    const fixed = { id: 'from-file', url: r.url('/file'), secret: newWebhookSecret() };
    const gw = await gatewayWith('api', { webhooksFile: await subscriptionFile('api', [fixed]) });
    try {
      const created = await api(gw, 'POST', '/v1/admin/webhooks', { id: 'crm', url: r.url('/crm'), types: ['intent'], queues: ['orders'] });
      assert.equal(created.status, 201);
      const secret = String(created.json['secret']);
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.deepEqual(created.json['types'], ['intent']);

      await playCall(gw.control, 'api-1', 'orders', TEXTS);
      await r.until(() => done(r.accepted('/file'), 'api-1') && r.accepted('/crm').length >= 1, 5000, 'the intent');
      const crm = r.requests.filter((q) => q.path === '/crm');
      assert.ok(crm.length >= 1 && crm.every((q) => (JSON.parse(q.body) as WebhookBody).type === 'intent'));
      for (const request of crm) assert.doesNotThrow(() => verifyStandardWebhook(secret, request));

      const listed = await api(gw, 'GET', '/v1/admin/webhooks');
      const views = listed.json['subscriptions'] as Record<string, unknown>[];
      assert.deepEqual(views.map((v) => [v['id'], v['source']]), [['from-file', 'file'], ['crm', 'api']]);
      assert.ok(!JSON.stringify(listed.json).includes('whsec_'), 'secrets are never listed');

      const refuse = async (method: string, pathname: string, body: unknown, status: number, message: RegExp): Promise<void> => {
        const answer = await api(gw, method, pathname, body);
        assert.equal(answer.status, status, `${method} ${pathname} ${JSON.stringify(body)}`);
        assert.match(String((answer.json['error'] as Record<string, unknown>)['message']), message);
      };
      await refuse('POST', '/v1/admin/webhooks', { id: 'crm', url: r.url('/x') }, 409, /exists already/);
      await refuse('POST', '/v1/admin/webhooks', { id: 'x', url: 'ftp://example.com/' }, 400, /body\.url/);
      await refuse('POST', '/v1/admin/webhooks', { id: 'x', url: r.url(), types: ['transcripts'] }, 400, /unknown event type 'transcripts'/);
      await refuse('POST', '/v1/admin/webhooks', { id: 'x', url: r.url(), secret: 'whsec_c2hvcnQ=' }, 400, /body\.secret.*24 to 64 bytes/);
      await refuse('POST', '/v1/admin/webhooks', '{"id":', 400, /must be JSON/);
      await refuse('POST', '/v1/admin/webhooks', JSON.stringify({ id: 'big', url: r.url(), padding: 'x'.repeat(70_000) }), 413, /request body over 65536 bytes/);
      await refuse('DELETE', '/v1/admin/webhooks/from-file', undefined, 400, /WEBHOOKS_FILE/);
      await refuse('DELETE', '/v1/admin/webhooks/nope', undefined, 404, /no webhook subscription 'nope'/);

      assert.equal((await api(gw, 'DELETE', '/v1/admin/webhooks/crm')).status, 204);
      const before = r.requests.filter((q) => q.path === '/crm').length;
      await playCall(gw.control, 'api-2', 'orders', TEXTS);
      await r.until(() => done(r.accepted('/file'), 'api-2'), 5000, 'the file subscription');
      assert.equal(r.requests.filter((q) => q.path === '/crm').length, before, 'nothing after the delete');
    } finally {
      await gw.close();
    }
  });

  test('a restart of a real gateway process loses nothing queued: the next one delivers it in order, then what follows', async () => {
    const r = await receiver();
    const hook = { id: 'durable', url: r.url(), secret: newWebhookSecret() };
    let up = false;
    r.answer = () => (up ? 200 : 503);
    const env = {
      ASR: 'none',
      WEBHOOKS_FILE: await subscriptionFile('durable', [hook]),
      WEBHOOKS_JOURNAL: path.join(dir, 'durable.journal'),
      WEBHOOK_RETRY_BASE_MS: '20',
      WEBHOOK_RETRY_MAX_MS: '100',
      WEBHOOK_MAX_ATTEMPTS: '1000',
      CALL_RECORDS_FILE: path.join(dir, 'records.jsonl'),
      LOG_LEVEL: 'info',
    };
    const first = await GatewayProcess.start({ env, rtpPortMin: 48910, rtpPortMax: 48919, logFile: path.join(dir, 'first.log') });
    let firstLive: string[];
    try {
      const events = await EventRecorder.connect(first.httpPort);
      const control = new CallControl(`127.0.0.1:${first.grpcPort}`, grpc.credentials.createInsecure());
      await playCall(control, 'before-1', 'orders', TEXTS);
      await playCall(control, 'before-2', 'orders', TEXTS);
      control.close();
      await events.waitFor((e) => e.event.callId === 'before-2' && e.event.type === 'call.summary', 5000, 'the calls live');
      firstLive = events.events.map((e) => e.event.eventId);
      events.close();
      await r.until(() => r.requests.length >= 5, 5000, 'failing attempts');
    } finally {
      assert.equal(await first.stop(), 0, 'the first gateway stops cleanly on SIGTERM');
    }
    assert.equal(r.accepted().length, 0, 'nothing was accepted before the restart');

    up = true;
    const second = await GatewayProcess.start({ env, rtpPortMin: 48910, rtpPortMax: 48919, logFile: path.join(dir, 'second.log') });
    try {
      const control = new CallControl(`127.0.0.1:${second.grpcPort}`, grpc.credentials.createInsecure());
      await playCall(control, 'after-1', 'orders', TEXTS);
      control.close();
      await r.until(() => ['before-1', 'before-2', 'after-1'].every((id) => done(r.accepted(), id)), 15_000, 'everything delivered after the restart');
    } finally {
      assert.equal(await second.stop(), 0);
    }
    const accepted = r.accepted();
    const before = accepted.filter((b) => b.data.callId.startsWith('before-')).map((b) => b.data.eventId);
    assert.deepEqual([...before].sort(), [...firstLive].sort(), 'every event queued before the restart, once');
    assertOrderedPerCall(accepted.filter((b) => b.data.callId.startsWith('before-')), 'queued across the restart');
    assert.ok(ofCall(accepted, 'after-1').length >= 5, 'and the new call');
    for (const request of r.requests) assert.doesNotThrow(() => verifyStandardWebhook(hook.secret, request));
  });
});
