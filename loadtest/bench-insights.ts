/**
 * `npm run bench:insights`: the call-record store at scale, on SQLite (a file
 * in a temporary folder, the default store) and on PostgreSQL (Debian's
 * server, started in a temporary folder on a free port, as the tests do).
 *
 * 1. Loads 1 million synthetic records (loadtest/syntheticRecords.ts: four
 *    queues, their own mixes of contact reasons, two languages, 200 agents,
 *    opening hours, repeat contacts, escalations) over 90 days.
 * 2. The contact-reason report for one month (30 days: the store's
 *    aggregation plus the report built from it, as the API does), for all
 *    queues, for one queue, per hour for one week: a warm-up, then the median
 *    and the slowest of 5 runs. The target is under 1 s.
 * 3. The write path: records with a 40-line transcript (retention on, the
 *    heavier case) pushed through the gateway's CallRecordQueue into the
 *    database as fast as it takes them (sustained records/s), then paced at
 *    1000 calls ending a minute for a while (the largest queue depth seen,
 *    batch latencies). The target is 1000 a minute (16.7/s).
 *
 * Options: --records N (1000000), --days N (90), --dialect sqlite|postgres|both,
 * --write N (20000, records of the sustained run), --paced-seconds N (30).
 * Prints a table and writes JSON to loadtest/results/insights-<date>.json.
 * Heavy (minutes of both cores): run it on an idle machine.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import Database from 'better-sqlite3';
import { buildReport } from '../src/insights/ContactReasonReport.js';
import { CallRecordQueue } from '../src/insights/CallRecordQueue.js';
import type { CallRecordStore, ReportQuery } from '../src/insights/CallRecordStore.js';
import { PostgresCallRecordStore } from '../src/insights/PostgresCallRecordStore.js';
import { SqliteCallRecordStore } from '../src/insights/SqliteCallRecordStore.js';
import { createLogger } from '../src/logger.js';
import { GatewayMetrics } from '../src/metrics.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { seeded, syntheticRecord } from './syntheticRecords.js';

const DAY = 86_400_000;
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '90' },
    dialect: { type: 'string', default: 'both' },
    write: { type: 'string', default: '20000' },
    'paced-seconds': { type: 'string', default: '30' },
  },
});
const RECORDS = Number(values.records);
const DAYS = Number(values.days);
const WRITE = Number(values.write);
const PACED_S = Number(values['paced-seconds']);
/** The 90 days end at the start of this UTC day; the month reported is the last 30 of them. */
const END = Date.now() - (Date.now() % DAY);
const FROM = END - DAYS * DAY;
const LOAD_BATCH = 5000;

interface Timing {
  readonly medianMs: number;
  readonly maxMs: number;
  readonly calls: number;
}

interface DialectResult {
  readonly dialect: string;
  readonly loadSeconds: number;
  readonly loadRecordsPerS: number;
  readonly databaseMb: number;
  readonly report: Record<string, Timing>;
  readonly sustained: { readonly records: number; readonly seconds: number; readonly recordsPerS: number; readonly transcriptLinesPerRecord: number };
  readonly paced: { readonly records: number; readonly perMinute: number; readonly maxQueueDepth: number; readonly batchP50Ms: number; readonly batchMaxMs: number; readonly allWritten: boolean };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function load(store: CallRecordStore): Promise<number> {
  const rand = seeded(2026);
  const started = performance.now();
  let batch = [];
  for (let i = 0; i < RECORDS; i++) {
    batch.push(syntheticRecord(rand, i, { from: FROM, days: DAYS, prefix: 'bench' }));
    if (batch.length === LOAD_BATCH || i === RECORDS - 1) {
      await store.write(batch);
      batch = [];
      if ((i + 1) % 100_000 === 0) process.stderr.write(`  loaded ${i + 1}\n`);
    }
  }
  return (performance.now() - started) / 1000;
}

async function timeReport(store: CallRecordStore, query: ReportQuery): Promise<Timing> {
  const once = async (): Promise<{ ms: number; calls: number }> => {
    const started = performance.now();
    const rows = await store.reasonBuckets(query);
    const report = buildReport(rows, query, { queue: null, queues: query.queues === undefined ? null : [...query.queues], language: null, agent: null });
    return { ms: performance.now() - started, calls: report.calls };
  };
  await once();
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await once());
  return { medianMs: Math.round(median(runs.map((r) => r.ms))), maxMs: Math.round(Math.max(...runs.map((r) => r.ms))), calls: runs[0]?.calls ?? 0 };
}

async function writePath(store: CallRecordStore): Promise<Pick<DialectResult, 'sustained' | 'paced'>> {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  // The batches' latencies, timed around the store the queue writes to.
  const latencies: number[] = [];
  const timed: CallRecordStore = Object.assign(Object.create(store) as CallRecordStore, {
    write: async (records: Parameters<CallRecordStore['write']>[0]) => {
      const started = performance.now();
      await store.write(records);
      latencies.push(performance.now() - started);
    },
  });
  const queue = new CallRecordQueue({ store: timed, metrics, logger: createLogger('silent'), maxQueued: Math.max(10_000, WRITE) });
  const rand = seeded(7);
  const make = (i: number) => syntheticRecord(rand, i, { from: END - DAY, days: 1, prefix: 'write', transcript: true, transcriptLines: 40 });
  const records = Array.from({ length: WRITE }, (_, i) => make(i));
  const started = performance.now();
  for (const r of records) queue.push(r);
  while (queue.depth > 0) await sleep(20);
  const seconds = (performance.now() - started) / 1000;

  // Paced: 1000 calls ending a minute, one every 60 ms.
  latencies.length = 0;
  const pacedCount = Math.round((PACED_S * 1000) / 60);
  let maxDepth = 0;
  const pacedStart = performance.now();
  for (let i = 0; i < pacedCount; i++) {
    const wait = pacedStart + i * 60 - performance.now();
    if (wait > 0) await sleep(wait);
    queue.push(make(WRITE + i));
    maxDepth = Math.max(maxDepth, queue.depth);
  }
  while (queue.depth > 0) await sleep(20);
  const written = (await metrics.callStoreRecords.get()).values.find((v) => v.labels['outcome'] === 'written')?.value ?? 0;
  await queue.close(Date.now() + 5000);
  return {
    sustained: { records: WRITE, seconds: Math.round(seconds * 10) / 10, recordsPerS: Math.round(WRITE / seconds), transcriptLinesPerRecord: 40 },
    paced: { records: pacedCount, perMinute: 1000, maxQueueDepth: maxDepth, batchP50Ms: Math.round(median(latencies) * 10) / 10, batchMaxMs: Math.round(Math.max(...latencies) * 10) / 10, allWritten: written === WRITE + pacedCount },
  };
}

async function bench(dialect: 'sqlite' | 'postgres'): Promise<DialectResult> {
  const dir = await mkdtemp(path.join(tmpdir(), `sgw-bench-${dialect}-`));
  const server = dialect === 'postgres' ? await startPostgres() : undefined;
  const file = path.join(dir, 'records.db');
  const open = (): CallRecordStore => (server === undefined ? new SqliteCallRecordStore(file) : new PostgresCallRecordStore(server.url, { queryTimeoutMs: 600_000 }));
  try {
    process.stderr.write(`${dialect}: loading ${RECORDS} records over ${DAYS} days\n`);
    const store = open();
    const loadSeconds = await load(store);
    // Statistics (and for PostgreSQL the visibility map its index-only scans need), as autovacuum would do in time.
    let databaseMb: number;
    if (server !== undefined) {
      const client = new pg.Client(server.url);
      await client.connect();
      await client.query('VACUUM ANALYZE');
      databaseMb = Math.round(Number((await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')).rows[0]?.size) / 1e6);
      await client.end();
    } else {
      const db = new Database(file);
      db.exec('ANALYZE');
      db.close();
      databaseMb = Math.round((await import('node:fs')).statSync(file).size / 1e6);
    }
    process.stderr.write(`${dialect}: loaded in ${loadSeconds.toFixed(0)} s; reports\n`);
    const month = { from: END - 30 * DAY, to: END, bucket: 'day' as const };
    const report = {
      month: await timeReport(store, month),
      monthOneQueue: await timeReport(store, { ...month, queues: ['delivery'] }),
      monthSupervisorTwoQueues: await timeReport(store, { ...month, queues: ['orders', 'delivery'] }),
      weekPerHour: await timeReport(store, { from: END - 7 * DAY, to: END, bucket: 'hour' }),
      ninetyDays: await timeReport(store, { from: FROM, to: END, bucket: 'day' }),
    };
    process.stderr.write(`${dialect}: write path\n`);
    const write = await writePath(store);
    await store.close();
    return { dialect, loadSeconds: Math.round(loadSeconds), loadRecordsPerS: Math.round(RECORDS / loadSeconds), databaseMb, report, ...write };
  } finally {
    await server?.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const dialects = values.dialect === 'both' ? (['sqlite', 'postgres'] as const) : [values.dialect as 'sqlite' | 'postgres'];
const results: DialectResult[] = [];
for (const dialect of dialects) results.push(await bench(dialect));

const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, ${Math.round(os.totalmem() / 1e9)} GB, Node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
console.log(`insights benchmark: ${RECORDS} records over ${DAYS} days; ${machine}`);
for (const r of results) {
  console.log(`\n${r.dialect}: load ${r.loadSeconds} s (${r.loadRecordsPerS} records/s), database ${r.databaseMb} MB`);
  for (const [name, t] of Object.entries(r.report)) console.log(`  report ${name.padEnd(26)} ${String(t.medianMs).padStart(6)} ms median, ${String(t.maxMs).padStart(6)} ms slowest  (${t.calls} calls)`);
  console.log(`  write path, sustained: ${r.sustained.records} records with ${r.sustained.transcriptLinesPerRecord}-line transcripts in ${r.sustained.seconds} s = ${r.sustained.recordsPerS} records/s (${Math.round(r.sustained.recordsPerS * 60)} a minute; 1000 a minute needed)`);
  console.log(`  write path, paced 1000/min: ${r.paced.records} records, largest queue depth ${r.paced.maxQueueDepth}, batch ${r.paced.batchP50Ms} ms median / ${r.paced.batchMaxMs} ms slowest, all written: ${r.paced.allWritten}`);
}
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'loadtest', 'results');
await mkdir(outDir, { recursive: true });
const out = path.join(outDir, `insights-${new Date().toISOString().slice(0, 10)}.json`);
await writeFile(out, JSON.stringify({ records: RECORDS, days: DAYS, machine, results }, null, 2));
console.log(`\n${out}`);
