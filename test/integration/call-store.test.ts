/**
 * The call-record store on real SQLite and real PostgreSQL, the same cases on
 * both: migrations applied once and recorded; a record written and read back
 * whole; a record replaced by its call id; erase removes the transcript and
 * every free text but keeps the figures; the retention purge deletes the
 * transcripts of calls that ended before the cutoff and no others, and the
 * gateway's purge applies TRANSCRIPT_RETENTION_DAYS and counts them; the write
 * queue isolates a record the database refuses for its data and writes the
 * rest. On PostgreSQL also: the database stopped mid-run loses nothing the
 * queue held (records queued during the outage land when it is back, the
 * outage shows in /readyz's check and the metrics), a connection killed in
 * the middle of a write neither ends the process nor loses its batch, and records the database
 * has not taken by shutdown are spilled and written at the next start.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { seeded, syntheticRecord } from '../../loadtest/syntheticRecords.js';
import type { CallRecord } from '../../src/insights/CallRecord.js';
import { CallRecordQueue } from '../../src/insights/CallRecordQueue.js';
import { CallRecordService } from '../../src/insights/CallRecordService.js';
import { EventHub } from '../../src/push/EventHub.js';
import type { CallRecordStore } from '../../src/insights/CallRecordStore.js';
import { MIGRATIONS } from '../../src/insights/migrations.js';
import { createLogger } from '../../src/logger.js';
import { GatewayMetrics } from '../../src/metrics.js';
import { DIALECTS, storeHarness, type StoreHarness } from '../helpers/callStores.js';
import { metricValue } from '../helpers/metrics.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2);

function record(index: number, overrides: Partial<CallRecord> = {}): CallRecord {
  return { ...syntheticRecord(seeded(index + 1), index, { from: T0, days: 30, transcript: true, prefix: 'store' }), ...overrides };
}

/** Polls `check` until it is true or `ms` pass. */
async function eventually(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting until ${what}`);
    await sleep(50);
  }
}

for (const dialect of DIALECTS) {
  describe(`call-record store on ${dialect}`, () => {
    let harness: StoreHarness;
    let store: CallRecordStore;

    before(async () => {
      harness = await storeHarness(dialect);
      store = harness.open();
    });

    after(async () => {
      await store.close();
      await harness.destroy();
    });

    test('migrations: applied once each, in order, recorded in schema_migrations, also with two instances at once', async () => {
      const others = [harness.open(), harness.open()];
      await Promise.all([store.migrate(), ...others.map((o) => o.migrate())]);
      await others[0]?.migrate();
      await Promise.all(others.map((o) => o.close()));
      const rows = await harness.sql('SELECT version, name FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.map((r) => [Number(r['version']), r['name']]),
        MIGRATIONS.map((m) => [m.version, m.name]),
      );
      const tables = dialect === 'sqlite' ? await harness.sql("SELECT name FROM sqlite_master WHERE type = 'table'") : await harness.sql("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
      assert.deepEqual(tables.map((t) => t['name']).sort(), ['call_intents', 'call_spans', 'calls', 'schema_migrations', 'transcripts']);
    });

    test('a record is written and read back whole: intents, spans, transcript, flags, figures', async () => {
      const original = record(1, { primaryReason: 'order_status', avoidable: true, selfServiceChannel: 'track-and-trace page', repeatContact: true, escalation: { peakLevel: 'high', peakScore: 0.7, reasons: [{ kind: 'cue', detail: 'speak_to_manager (customer): "your manager"', atMs: 12_000 }] } });
      const withSpans = { ...original, spans: [{ kind: 'secure-pause' as const, leg: 'customer' as const, startMs: 20_000, endMs: 45_000, presses: 0 }, { kind: 'dtmf' as const, leg: 'customer' as const, startMs: 21_000, endMs: 40_000, presses: 16 }] };
      await store.write([withSpans]);
      const back = await store.get(withSpans.callId);
      assert.deepEqual(back, { ...withSpans, reasons: [...new Set(withSpans.intents.filter((i) => i.kind === 'intent').map((i) => i.intent))] });
      const [row] = await harness.sql('SELECT escalated, dtmf_presses, secure_pause_ms, transcript_retained FROM calls WHERE id = ?', [withSpans.callId]);
      assert.equal(Number(row?.['dtmf_presses']), 16);
      assert.equal(Number(row?.['secure_pause_ms']), 25_000);
      assert.ok(row?.['escalated'] === true || row?.['escalated'] === 1, 'a high peak counts as escalated');
      assert.equal(await store.get('no-such-call'), undefined);
    });

    test('a record written again under its call id replaces the first (a replay after a spill is harmless)', async () => {
      const first = record(2);
      await store.write([first]);
      const second = { ...first, endReason: 'shutdown', intents: first.intents.slice(0, 1), transcript: null };
      await store.write([second]);
      const back = await store.get(first.callId);
      assert.equal(back?.endReason, 'shutdown');
      assert.equal(back?.intents.length, second.intents.length);
      assert.equal(back?.transcript, null);
      assert.equal(Number((await harness.sql('SELECT COUNT(*) AS n FROM transcripts WHERE call_id = ?', [first.callId]))[0]?.['n']), 0);
    });

    test('erase: the transcript and every free text go, the figures and reasons stay; an unknown call is not found', async () => {
      const original = record(3, { escalation: { peakLevel: 'critical', peakScore: 0.95, reasons: [{ kind: 'cue', detail: 'legal_threat (customer): "my lawyer jan jansen"', atMs: 5000 }] } });
      await store.write([original]);
      const result = await store.erase(original.callId, T0 + 40 * DAY);
      assert.deepEqual(result, { found: true, transcriptLines: original.transcript?.length });
      const back = await store.get(original.callId);
      assert.equal(back?.transcript, null);
      assert.ok(back?.intents.every((i) => i.text === null));
      assert.deepEqual(back?.escalation.reasons, [{ kind: 'cue', detail: 'cue', atMs: 5000 }]);
      assert.equal(back?.erasedAt, T0 + 40 * DAY);
      assert.equal(back?.primaryReason, original.primaryReason);
      assert.deepEqual(back?.talk, original.talk);
      assert.equal(back?.intents.length, original.intents.length);
      const text = JSON.stringify(await harness.sql('SELECT * FROM call_intents WHERE call_id = ?', [original.callId])) + JSON.stringify(await harness.sql('SELECT * FROM calls WHERE id = ?', [original.callId]));
      assert.ok(!text.includes('jansen') && !text.includes('[card]'), `no free text left: ${text}`);
      assert.deepEqual(await store.erase('no-such-call', Date.now()), { found: false, transcriptLines: 0 });
    });

    test('retention purge: transcripts of calls ended before the cutoff are deleted, later ones kept', async () => {
      await harness.clear();
      const old = [record(10, { callId: 'old-1', endedAt: T0 - 40 * DAY }), record(11, { callId: 'old-2', endedAt: T0 - 31 * DAY })];
      const recent = [record(12, { callId: 'recent-1', endedAt: T0 - 29 * DAY }), record(13, { callId: 'recent-2', endedAt: T0 })];
      await store.write([...old, ...recent]);
      const lines = await store.purgeTranscripts(T0 - 30 * DAY);
      assert.equal(lines, old.reduce((n, r) => n + (r.transcript?.length ?? 0), 0));
      for (const r of old) assert.equal((await store.get(r.callId))?.transcript, null, `${r.callId} purged`);
      for (const r of recent) assert.deepEqual((await store.get(r.callId))?.transcript, r.transcript, `${r.callId} kept`);
      assert.equal(await store.purgeTranscripts(T0 - 30 * DAY), 0, 'a second run finds nothing');
      assert.equal((await store.get('old-1'))?.primaryReason, old[0]?.primaryReason, 'the record itself stays');
    });

    test('the gateway\'s purge: transcripts of calls that ended more than TRANSCRIPT_RETENTION_DAYS ago are deleted and counted', async () => {
      await harness.clear();
      const metrics = new GatewayMetrics({ defaultMetrics: false });
      const service = new CallRecordService({ store: harness.open(), hub: new EventHub(metrics), metrics, logger: createLogger('silent'), marks: () => undefined, maxQueued: 10, spillFile: undefined, retainTranscripts: true, retentionDays: 30 });
      const expired = record(40, { callId: 'ended-31-days-ago', endedAt: T0 - 31 * DAY });
      const kept = record(41, { callId: 'ended-29-days-ago', endedAt: T0 - 29 * DAY });
      await store.write([expired, kept]);
      const lines = await service.purge(T0);
      assert.equal(lines, expired.transcript?.length);
      assert.equal(await metricValue(metrics, 'sgw_call_store_transcripts_purged_total'), lines);
      assert.equal((await store.get(expired.callId))?.transcript, null);
      assert.deepEqual((await store.get(kept.callId))?.transcript, kept.transcript);
      await service.close(Date.now() + 1000);
    });

    test('queue: a record the database refuses for its data is dropped alone and counted; the rest of its batch is written', async () => {
      await harness.clear();
      const metrics = new GatewayMetrics({ defaultMetrics: false });
      const queue = new CallRecordQueue({ store, metrics, logger: createLogger('silent'), maxQueued: 100, retry: { firstMs: 20, maxMs: 100 } });
      const good = [record(20), record(21), record(22)];
      // NaN is no number of milliseconds: PostgreSQL refuses it (22P02), SQLite stores it as NULL against NOT NULL.
      const bad = record(23, { durationMs: Number.NaN });
      for (const r of [good[0], bad, good[1], good[2]]) if (r !== undefined) queue.push(r);
      await eventually(() => queue.depth === 0, 10_000, 'the queue is empty');
      const stored = await harness.sql('SELECT id FROM calls ORDER BY id');
      assert.deepEqual(stored.map((r) => r['id']), good.map((r) => r.callId).sort());
      assert.equal(await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'written' }), 3);
      assert.equal(await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'rejected' }), 1);
      await queue.close(Date.now() + 1000);
    });

    test('queue: past its bound the newest record is dropped and counted; readiness says so', async () => {
      await harness.clear();
      const metrics = new GatewayMetrics({ defaultMetrics: false });
      const slow: CallRecordStore = Object.assign(Object.create(store) as CallRecordStore, { write: () => sleep(300) });
      const queue = new CallRecordQueue({ store: slow, metrics, logger: createLogger('silent'), maxQueued: 3, batchSize: 1 });
      const accepted = [0, 1, 2, 3, 4].map((i) => queue.push(record(30 + i)));
      assert.deepEqual(accepted, [true, true, true, false, false]);
      assert.equal(await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'dropped' }), 2);
      const check = await queue.readiness();
      assert.equal(check.ok, false);
      assert.match(check.reason ?? '', /queue full/);
      await queue.close(Date.now() + 2000);
    });
  });
}

describe('call-record store on postgres: outages', () => {
  let harness: StoreHarness;
  let dir: string;

  before(async () => {
    harness = await storeHarness('postgres');
    dir = await mkdtemp(path.join(tmpdir(), 'sgw-spill-'));
  });

  after(async () => {
    await harness.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  test('the database stopped mid-run: records queued during the outage land when it is back, none lost; readiness and metrics show it', async () => {
    const server = harness.server;
    assert.ok(server);
    const store = harness.open();
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const queue = new CallRecordQueue({ store, metrics, logger: createLogger('silent'), maxQueued: 1000, batchSize: 50, retry: { firstMs: 50, maxMs: 400 } });
    const before = Array.from({ length: 20 }, (_, i) => record(100 + i));
    for (const r of before) queue.push(r);
    await eventually(() => queue.depth === 0, 10_000, 'the first records are written');

    await server.stop();
    const during = Array.from({ length: 120 }, (_, i) => record(200 + i));
    for (const r of during) assert.equal(queue.push(r), true, 'push never refuses for an outage');
    await eventually(async () => (await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'failed' })) > 0, 10_000, 'a write fails');
    assert.equal(queue.depth, during.length, 'nothing left the queue while the database was away');
    await sleep(5100); // past the cached readiness answer
    const down = await queue.readiness();
    assert.equal(down.ok, true, 'an outage alone keeps the instance ready: calls go on');
    assert.equal(down['state'], 'unreachable');
    assert.equal(down['queued'], during.length);
    assert.equal(await metricValue(metrics, 'sgw_call_store_up'), 0);
    assert.equal(await metricValue(metrics, 'sgw_call_store_queue_depth'), during.length);

    await server.start();
    await eventually(() => queue.depth === 0, 20_000, 'the queue drains once the database is back');
    const stored = new Set((await harness.sql('SELECT id FROM calls')).map((r) => r['id']));
    for (const r of [...before, ...during]) assert.ok(stored.has(r.callId), `${r.callId} stored`);
    assert.equal(stored.size, before.length + during.length);
    assert.equal(await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'written' }), before.length + during.length);
    assert.equal(await metricValue(metrics, 'sgw_call_store_up'), 1);
    await queue.close(Date.now() + 1000);
    await store.close();
  });

  test('a connection killed in the middle of a write: the process goes on, the batch is retried, nothing is lost', async () => {
    const store = harness.open();
    await store.migrate();
    await harness.clear();
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const queue = new CallRecordQueue({ store, metrics, logger: createLogger('silent'), maxQueued: 10_000, batchSize: 200, retry: { firstMs: 50, maxMs: 200 } });
    const rand = seeded(99);
    const records = Array.from({ length: 3000 }, (_, i) => syntheticRecord(rand, i, { from: T0, days: 30, transcript: true, transcriptLines: 40, prefix: 'killed' }));
    for (const r of records) queue.push(r);
    // The gateway's connections inside a transaction, ended by the server as an administrator (or a failover) would.
    let killed = 0;
    while (killed === 0 && queue.depth > 0) {
      const rows = await harness.sql("SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = 'speech-gateway' AND state IN ('active', 'idle in transaction')");
      killed += rows.filter((r) => r['done'] === true).length;
    }
    assert.ok(killed > 0, 'a connection was killed mid-write');
    await eventually(() => queue.depth === 0, 30_000, 'the queue drains');
    assert.ok((await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'failed' })) > 0, 'the killed batch failed and was retried');
    assert.equal(Number((await harness.sql('SELECT COUNT(*) AS n FROM calls'))[0]?.['n']), records.length);
    assert.equal(Number((await harness.sql('SELECT COUNT(*) AS n FROM transcripts'))[0]?.['n']), records.length * 40);
    await queue.close(Date.now() + 1000);
    await store.close();
  });

  test('shutdown during an outage: what the database has not taken is spilled, then written at the next start and the spill file removed', async () => {
    const server = harness.server;
    assert.ok(server);
    await harness.clear();
    const spillFile = path.join(dir, 'spill.jsonl');
    await server.stop();
    const first = harness.open();
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const queue = new CallRecordQueue({ store: first, metrics, logger: createLogger('silent'), maxQueued: 1000, spillFile, retry: { firstMs: 50, maxMs: 200 } });
    const records = Array.from({ length: 30 }, (_, i) => record(300 + i));
    for (const r of records) queue.push(r);
    await queue.close(Date.now() + 500);
    await first.close();
    assert.equal(await metricValue(metrics, 'sgw_call_store_records_total', { outcome: 'spilled' }), records.length);
    assert.ok(existsSync(spillFile));

    await server.start();
    const second = harness.open();
    const next = new CallRecordQueue({ store: second, metrics: new GatewayMetrics({ defaultMetrics: false }), logger: createLogger('silent'), maxQueued: 1000, spillFile });
    assert.equal(await next.loadSpill(), records.length);
    await eventually(() => next.depth === 0, 10_000, 'the spilled records are written');
    await eventually(() => !existsSync(spillFile), 2000, 'the spill file is removed');
    const stored = (await harness.sql('SELECT id FROM calls ORDER BY id')).map((r) => r['id']);
    assert.deepEqual(stored, records.map((r) => r.callId).sort());
    assert.deepEqual(await second.get(records[0]?.callId ?? ''), { ...records[0], reasons: records[0]?.reasons });
    await next.close(Date.now() + 1000);
    await second.close();
  });
});
