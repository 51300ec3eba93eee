/**
 * Redis killed mid-call under a real gateway process, and started again on
 * the same port: the process never crashes and goes on serving its call and
 * its client (who gets the call's events at once, the cursor standing still),
 * the metrics show the outage, and once Redis is back every event the gateway
 * published meanwhile is in the stream, in order; the call then goes on
 * through the stream.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { GatewayProcess, metricSum } from '../../loadtest/GatewayProcess.js';
import { parseEntries } from '../../src/cluster/streamReplies.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { GatewayEvent } from '../../src/events.js';
import { EventRecorder } from '../helpers/gateway.js';
import { RedisServer } from '../helpers/redis.js';

let dir: string;
let redis: RedisServer;
let gateway: GatewayProcess;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-outage-'));
  redis = await RedisServer.start();
  gateway = await GatewayProcess.start({
    env: { ASR: 'none', JWT_SECRET: '', REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage:', INSTANCE_ID: 'gw-o', LOG_LEVEL: 'info', CALL_RECORDS_FILE: path.join(dir, 'records.jsonl') },
    rtpPortMin: 46720,
    rtpPortMax: 46729,
    logFile: path.join(dir, 'gateway.log'),
  });
});

after(async () => {
  await gateway.stop();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

async function metric(name: string): Promise<number> {
  return metricSum(await gateway.metricsText(), name);
}

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function streamEvents(): Promise<(GatewayEvent & { eventId: string })[]> {
  const client = new Redis(redis.url);
  try {
    return parseEntries(await client.call('XRANGE', 'outage:events', '-', '+')).map(({ id, fields }) => ({ ...(JSON.parse(fields[fields.indexOf('e') + 1] ?? '{}') as GatewayEvent), eventId: id }));
  } finally {
    client.disconnect();
  }
}

describe('Redis stopped mid-call', { timeout: 90_000 }, () => {
  test('the gateway keeps serving, buffers, reconnects and writes every buffered event to the stream in order', async () => {
    const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
    const events = await EventRecorder.connect(gateway.httpPort);
    const callId = 'outage-1';
    let utterance = 0;
    const say = (text: string): Promise<void> => {
      utterance += 1;
      const id = utterance;
      return new Promise((resolve, reject) =>
        control.raw.PushTranscript({ call_id: callId, role: 'LEG_ROLE_CUSTOMER', text, final: true, utterance_id: id, start_ms: id * 3000, end_ms: id * 3000 + 2000 }, (err) => (err ? reject(err) : resolve())),
      );
    };
    try {
      await until('the bus connected', async () => (await metric('sgw_event_bus_connected')) === 1);
      await control.startCall({ call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
      await say('hello there');
      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'transcript', 5000, 'the first transcript, through the stream');
      await sleep(200);
      await redis.kill();
      await until('the bus disconnected', async () => (await metric('sgw_event_bus_connected')) === 0);
      const cursor = events.events.at(-1)?.event.eventId ?? '';
      const beforeOutage = events.events.length;
      await say('i would like to cancel my order');
      await say('this is ridiculous i will contact my lawyer');
      await say('the order number is four five six seven');
      // The client is served at once, the cursor standing at the last entry read.
      await events.waitFor((e) => e.event.type === 'transcript' && e.event.utteranceId === 4, 5000, 'the last transcript of the outage');
      await sleep(200);
      const duringOutage = events.events.slice(beforeOutage).map((e) => e.event);
      assert.ok(duringOutage.some((e) => e.type === 'intent' && e.intent === 'cancel_order'), 'intents during the outage');
      assert.ok(duringOutage.some((e) => e.type === 'alert'), 'alerts during the outage');
      assert.ok(duringOutage.every((e) => e.eventId === cursor), 'every event of the outage carries the cursor of the last entry read');
      const buffered = await metric('sgw_event_bus_buffered_events');
      assert.equal(buffered, duringOutage.length, 'the buffer holds what the gateway published meanwhile');
      assert.equal((await fetch(`http://127.0.0.1:${gateway.httpPort}/healthz`)).status, 200, 'alive');
      // Readiness reports the outage and the buffer but stays ready: every instance loses Redis at once.
      const ready = await fetch(`http://127.0.0.1:${gateway.httpPort}/readyz`);
      const report = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean; connected?: boolean; buffered?: number; lastError?: string }> };
      assert.equal(ready.status, 200);
      assert.deepEqual([report.checks['event-bus']?.ok, report.checks['event-bus']?.connected, report.checks['event-bus']?.buffered], [true, false, buffered]);
      assert.equal(typeof report.checks['event-bus']?.lastError, 'string');

      await redis.restart();
      await until('reconnected and flushed', async () => (await metric('sgw_event_bus_connected')) === 1 && (await metric('sgw_event_bus_buffered_events')) === 0);
      assert.ok((await metric('sgw_event_bus_reconnects_total')) >= 1);
      assert.equal(await metric('sgw_event_bus_dropped_events_total'), 0);
      // The restarted Redis kept nothing (no persistence): the stream holds exactly the buffered events, in order.
      const strip = (e: GatewayEvent): string => JSON.stringify({ ...e, eventId: undefined, seq: undefined });
      const inStream = await streamEvents();
      assert.deepEqual(inStream.map(strip), duringOutage.map(strip), 'every buffered event is in the stream, in order');

      // Live again: the call goes on through the stream, the client gets no duplicate.
      await control.endCall(callId);
      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 5000, 'call.summary after the outage');
      const after = events.events.slice(beforeOutage + duringOutage.length).map((e) => e.event);
      assert.deepEqual(after.map((e) => e.type), ['call.ended', 'call.summary'], 'no event twice');
      assert.deepEqual(after.map((e) => e.eventId), (await streamEvents()).slice(-2).map((e) => e.eventId), 'call.ended and call.summary carry their stream ids');
      assert.equal(gateway.pid > 0 && (await fetch(`http://127.0.0.1:${gateway.httpPort}/healthz`)).status, 200);
    } finally {
      control.close();
      events.close();
    }
    assert.equal(await gateway.stop(), 0, 'a clean exit');
  });
});
