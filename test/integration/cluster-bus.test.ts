/**
 * The Redis event bus against a real redis-server: two buses are two
 * gateways of one cluster. An event published on one reaches the subscribers
 * of both with its stream id as eventId and its owner; `since=` replays from
 * the stream on either, with the gap reasons of the in-memory hub; with Redis
 * killed, publishing never throws, own events still reach own subscribers,
 * wait in the bounded buffer (the oldest dropped past it, counted) and are all
 * in the stream, in order, once Redis is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { CallOwner } from '../../src/auth/Principal.js';
import { RedisEventBus } from '../../src/cluster/RedisEventBus.js';
import { parseEntries } from '../../src/cluster/streamReplies.js';
import { LogLimiter } from '../../src/LogLimiter.js';
import { createLogger } from '../../src/logger.js';
import { GatewayMetrics } from '../../src/metrics.js';
import type { GatewayEvent } from '../../src/events.js';
import { metricValue } from '../helpers/metrics.js';
import { RedisServer } from '../helpers/redis.js';

let redis: RedisServer;

before(async () => {
  redis = await RedisServer.start();
});

after(async () => {
  await redis.stop();
});

interface Instance {
  readonly bus: RedisEventBus;
  readonly metrics: GatewayMetrics;
  readonly seen: { event: GatewayEvent; owner: CallOwner | undefined }[];
}

function instance(name: string, prefix: string, options: { bufferSize?: number; maxLen?: number } = {}): Instance {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const bus = new RedisEventBus({
    url: redis.url,
    keyPrefix: prefix,
    instanceId: name,
    maxLen: options.maxLen ?? 10_000,
    bufferSize: options.bufferSize ?? 1000,
    metrics,
    logger: createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'),
    logLimiter: new LogLimiter({ metrics }),
    blockMs: 200,
  });
  const seen: Instance['seen'] = [];
  bus.subscribe((event, owner) => seen.push({ event, owner }), 'test');
  return { bus, metrics, seen };
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const started = (callId: string) => ({ type: 'call.started' as const, callId, agentId: 'agent-7', queue: 'orders', language: 'en-US' as const, transcriptsOnly: true, legs: [] });
const dtmf = (callId: string, atMs: number) => ({ type: 'dtmf' as const, callId, leg: 'customer' as const, digit: '1', atMs });

async function streamEntries(prefix: string): Promise<{ id: string; fields: readonly string[] }[]> {
  const client = new Redis(redis.url);
  try {
    return parseEntries(await client.call('XRANGE', `${prefix}events`, '-', '+'));
  } finally {
    client.disconnect();
  }
}

describe('RedisEventBus', { timeout: 60_000 }, () => {
  test('an event published on B reaches A and B with its stream id and owner; since= replays from the stream on A with a cursor of B', async () => {
    const a = instance('gw-a', 't1:');
    const b = instance('gw-b', 't1:');
    try {
      await until('both connected', () => a.bus.health().connected && b.bus.health().connected);
      assert.equal(await metricValue(a.metrics, 'sgw_event_bus_connected'), 1);
      b.bus.publish(started('c1'));
      for (let i = 0; i < 5; i++) b.bus.publish(dtmf('c1', i));
      await until('six events on A and B', () => a.seen.length === 6 && b.seen.length === 6);
      assert.deepEqual(a.seen.map((s) => s.event.eventId), b.seen.map((s) => s.event.eventId), 'one order for everyone');
      for (const { event, owner } of a.seen) {
        assert.match(event.eventId, /^\d+-\d+$/);
        assert.deepEqual(owner, { agentId: 'agent-7', queue: 'orders' }, 'the owner travels in the entry');
      }
      const ids = (await streamEntries('t1:')).map((e) => e.id);
      assert.deepEqual(a.seen.map((s) => s.event.eventId), ids, 'eventIds are the stream ids');

      const cursor = b.seen[1]?.event.eventId ?? '';
      const replay = await a.bus.since(cursor);
      assert.equal(replay.gap, undefined);
      assert.deepEqual(replay.entries.map((e) => e.event.eventId), ids.slice(2));
      assert.deepEqual(replay.entries[0]?.owner, { agentId: 'agent-7', queue: 'orders' });
      assert.equal(replay.latestEventId, ids.at(-1));
      assert.deepEqual((await a.bus.since(ids.at(-1) ?? '')).entries, [], 'nothing after the newest');
      assert.deepEqual((await a.bus.since('0-0')).entries.map((e) => e.event.eventId), ids, '0-0 on a stream never trimmed: everything, no gap');
      assert.equal((await a.bus.since('0-0')).gap, undefined);

      assert.equal((await a.bus.since('not-a-cursor')).gap, 'malformed');
      assert.equal((await a.bus.since('12')).gap, 'other-run');
      assert.equal((await a.bus.since('99999999999999-0')).gap, 'unknown');
      const [ms] = (ids[0] ?? '').split('-');
      assert.equal((await a.bus.since(`${Number(ms) - 1}-5`)).gap, 'expired', 'before the oldest entry');
    } finally {
      await a.bus.close();
      await b.bus.close();
    }
  });

  test('a cursor before entries trimmed by MAXLEN gets expired, with the retained events', async () => {
    const a = instance('gw-a', 't2:', { maxLen: 1000, bufferSize: 2000 });
    try {
      await until('connected', () => a.bus.health().connected);
      for (let i = 0; i < 1600; i++) a.bus.publish(dtmf('c2', i));
      await until('1600 events read back', () => a.seen.length === 1600);
      const first = a.seen[0]?.event.eventId ?? '';
      const replay = await a.bus.since(first);
      assert.equal(replay.gap, 'expired');
      assert.ok(replay.entries.length >= 1000 && replay.entries.length < 1600, `the retained entries (${replay.entries.length})`);
      assert.equal(replay.entries.at(-1)?.event.eventId, a.seen.at(-1)?.event.eventId);
    } finally {
      await a.bus.close();
    }
  });

  test('a burst past the buffer while connected: the oldest are dropped from the stream and counted, own subscribers still get every event once, in order', async () => {
    const a = instance('gw-a', 't5:', { bufferSize: 100 });
    try {
      await until('connected', () => a.bus.health().connected);
      for (let i = 0; i < 500; i++) a.bus.publish(dtmf('c5', i));
      await until('the buffer written', () => a.bus.health().buffered === 0);
      await sleep(300);
      assert.deepEqual(a.seen.map((s) => (s.event.type === 'dtmf' ? s.event.atMs : -1)), Array.from({ length: 500 }, (_, i) => i));
      assert.equal(await metricValue(a.metrics, 'sgw_event_bus_dropped_events_total'), 400);
      assert.equal((await streamEntries('t5:')).length, 100, 'the newest 100 are in the stream');
    } finally {
      await a.bus.close();
    }
  });

  test('Redis killed and restarted: publish never throws, own events reach own subscribers at once, none of the buffer is lost, the oldest past the bound is dropped and counted', async () => {
    const a = instance('gw-a', 't3:', { bufferSize: 100 });
    const b = instance('gw-b', 't3:');
    try {
      await until('both connected', () => a.bus.health().connected && b.bus.health().connected);
      a.bus.publish(started('c3'));
      await until('call.started on B', () => b.seen.length === 1);
      const before = a.seen.length;
      const cursorBefore = a.bus.cursor;

      await redis.kill();
      await until('A sees the outage', () => !a.bus.health().connected);
      assert.equal(await metricValue(a.metrics, 'sgw_event_bus_connected'), 0);
      for (let i = 0; i < 150; i++) assert.doesNotThrow(() => a.bus.publish(dtmf('c3', i)));
      assert.equal(a.seen.length - before, 150, 'own subscribers got every event at once');
      assert.ok(a.seen.slice(before).every((s) => s.event.eventId === cursorBefore), 'carrying the cursor of the last entry read');
      assert.deepEqual(a.seen[before + 1]?.owner, { agentId: 'agent-7', queue: 'orders' });
      assert.equal(a.bus.health().buffered, 100);
      assert.match(a.bus.health().lastError ?? '', /ECONNREFUSED|closed|Connection/i);
      assert.equal(await metricValue(a.metrics, 'sgw_event_bus_dropped_events_total'), 50);
      assert.equal(await metricValue(a.metrics, 'sgw_event_bus_buffered_events'), 100);
      const replay = await a.bus.since(cursorBefore);
      assert.equal(replay.gap, 'unavailable');
      assert.equal(replay.entries.length, 100, 'a resume meanwhile gets the buffered own events');

      await redis.restart();
      await until('A reconnected and flushed', () => a.bus.health().connected && a.bus.health().buffered === 0);
      await until('B got the flushed events', () => b.seen.length === 101);
      const inStream = (await streamEntries('t3:')).map((e) => e.fields[e.fields.indexOf('e') + 1] ?? '').map((json) => JSON.parse(json) as GatewayEvent);
      assert.deepEqual(
        inStream.map((e) => (e.type === 'dtmf' ? e.atMs : -1)),
        Array.from({ length: 100 }, (_, i) => 50 + i),
        'every buffered event is in the stream, in order (the restarted Redis lost the earlier ones)',
      );
      await sleep(300);
      assert.equal(a.seen.length - before, 150, 'no duplicate for A after the flush');
      assert.ok((await metricValue(a.metrics, 'sgw_event_bus_reconnects_total')) >= 1);
      assert.equal(await metricValue(a.metrics, 'sgw_event_bus_connected'), 1);
      assert.equal(a.bus.health().lastError, undefined);
      a.bus.publish(dtmf('c3', 999));
      await until('live again through the stream', () => a.seen.at(-1)?.event.type === 'dtmf' && b.seen.length === 102);
      assert.notEqual(a.seen.at(-1)?.event.eventId, cursorBefore);
    } finally {
      await a.bus.close();
      await b.bus.close();
    }
  });

  test('Redis frozen (SIGSTOP) then thawed: the hung connections are dropped, own events still reach own subscribers, each event reaches the other gateway once', async () => {
    const a = instance('gw-a', 't4:');
    const b = instance('gw-b', 't4:');
    try {
      await until('both connected', () => a.bus.health().connected && b.bus.health().connected);
      a.bus.publish(started('c4'));
      await until('call.started on B', () => b.seen.length === 1);
      redis.signal('SIGSTOP');
      a.bus.publish(dtmf('c4', 0));
      await until('A takes the hung Redis for lost', () => !a.bus.health().connected, 15_000);
      for (let i = 1; i < 20; i++) a.bus.publish(dtmf('c4', i));
      assert.deepEqual(a.seen.filter((s) => s.event.type === 'dtmf').map((s) => (s.event.type === 'dtmf' ? s.event.atMs : -1)), Array.from({ length: 20 }, (_, i) => i), 'own subscribers got every event, in order');
      redis.signal('SIGCONT');
      await until('A reconnected and flushed', () => a.bus.health().connected && a.bus.health().buffered === 0, 15_000);
      await until('B got the 20 events', () => b.seen.length >= 21, 15_000);
      await sleep(500);
      assert.deepEqual(b.seen.slice(1).map((s) => (s.event.type === 'dtmf' ? s.event.atMs : -1)), Array.from({ length: 20 }, (_, i) => i), 'B: each event once, in order');
      assert.equal(a.seen.length, 21, 'A: no duplicate');
    } finally {
      redis.signal('SIGCONT');
      await a.bus.close();
      await b.bus.close();
    }
  });
});
