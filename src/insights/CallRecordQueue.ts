import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CheckResult } from '../Readiness.js';
import { erased, type CallRecord } from './CallRecord.js';
import type { CallRecordStore } from './CallRecordStore.js';

export interface CallRecordQueueOptions {
  readonly store: CallRecordStore;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /**
   * Records waiting for the database. Past this the newest record is dropped,
   * counted (`sgw_call_store_records_total{outcome="dropped"}`) and logged: a
   * long outage must not grow the gateway's memory without bound. 10 000
   * holds 10 minutes of 1000 calls ending a minute.
   */
  readonly maxQueued: number;
  /** Records per transaction; default 500. */
  readonly batchSize?: number;
  /** Wait after a failed write, doubling up to `maxMs`; default 250 ms to 30 s. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  /** Records still queued at shutdown are written here (JSON lines) and queued again at the next start; undefined: lost. */
  readonly spillFile?: string;
  /** While failing, one log line at most this often (plus one when it fails and one when it recovers); default 60 s. */
  readonly logEveryMs?: number;
}

/** How long a readiness answer about the database is reused: load balancers probe every few seconds. */
const CHECK_CACHE_MS = 5000;
const CHECK_TIMEOUT_MS = 800;

/**
 * Takes finished calls' records off the live path and into the database:
 * `push` never waits and never throws; one writer drains the queue in
 * batches, one transaction each. A failed write keeps its records at the
 * head of the queue and is retried with backoff until the database is back,
 * so an outage loses nothing the queue holds; a record the database refuses
 * for its own data (never for an outage) is written alone to find it, then
 * dropped and counted as rejected. At shutdown, what the database did not
 * take before the deadline goes to the spill file and is queued again at the
 * next start. Depth, outcomes and batch latency are metrics; the database's
 * state is a /readyz check.
 */
export class CallRecordQueue {
  private queue: CallRecord[] = [];
  private readonly batchSize: number;
  private readonly retry: { readonly firstMs: number; readonly maxMs: number };
  private draining: Promise<void> | undefined;
  /** Cuts a backoff wait short (shutdown). */
  private cancelWait = new AbortController();
  private closing = false;
  private stopped = false;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private lastFailureLog = 0;
  private suppressedFailures = 0;
  /** Records loaded from the spill file and not yet written: the file goes once they are. */
  private spillPending = 0;
  private checked: { at: number; result: Promise<CheckResult> } | undefined;

  constructor(private readonly options: CallRecordQueueOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.retry = options.retry ?? { firstMs: 250, maxMs: 30_000 };
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Queues a finished call's record; false (counted, logged) when the queue is full or the queue is closed. */
  push(record: CallRecord): boolean {
    const { metrics, logger, maxQueued } = this.options;
    if (this.closing || this.queue.length >= maxQueued) {
      metrics.callStoreRecords.inc({ outcome: 'dropped' });
      logger.error({ callId: record.callId, queued: this.queue.length, closing: this.closing }, this.closing ? 'call record after close dropped' : 'call-record queue full; record dropped');
      return false;
    }
    this.queue.push(record);
    this.kick();
    return true;
  }

  /** Removes a queued record's transcript and free text (an erase while it waits); true when one was queued. */
  erase(callId: string, at: number): boolean {
    let found = false;
    this.queue = this.queue.map((r) => {
      if (r.callId !== callId) return r;
      found = true;
      return erased(r, at);
    });
    return found;
  }

  private kick(): void {
    this.options.metrics.callStoreQueueDepth.set(this.queue.length);
    if (this.stopped || this.queue.length === 0) return;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // A record pushed while the last batch was finishing.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const { store, metrics, logger } = this.options;
    let backoffMs = this.retry.firstMs;
    /** After a batch the database refused for its data: write this many alone to find the culprit. */
    let singles = 0;
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, singles > 0 ? 1 : this.batchSize);
      const started = performance.now();
      try {
        await store.write(batch);
        metrics.callStoreWriteSeconds.observe((performance.now() - started) / 1000);
        // An erase that scrubbed one of these while it was being written leaves the scrubbed copy queued, to replace it.
        const head = this.queue.splice(0, batch.length);
        this.queue.unshift(...head.filter((record, i) => record !== batch[i]));
        metrics.callStoreRecords.inc({ outcome: 'written' }, batch.length);
        metrics.callStoreUp.set(1);
        singles = Math.max(0, singles - batch.length);
        backoffMs = this.retry.firstMs;
        this.recovered();
        this.spillWritten(batch.length);
      } catch (err) {
        metrics.callStoreWriteSeconds.observe((performance.now() - started) / 1000);
        if (!store.isTransient(err)) {
          if (batch.length > 1) {
            singles = batch.length;
            continue;
          }
          const [record] = batch;
          if (record !== undefined && this.queue[0] === record) this.queue.shift();
          singles = Math.max(0, singles - 1);
          metrics.callStoreRecords.inc({ outcome: 'rejected' });
          logger.error({ err: errorMessage(err), callId: record?.callId, database: store.dialect }, 'call record refused by the database for its data; dropped');
          this.spillWritten(1);
          continue;
        }
        metrics.callStoreRecords.inc({ outcome: 'failed' }, batch.length);
        metrics.callStoreUp.set(0);
        this.failed(err);
        // Closing: try again often until the deadline, the database may be back any moment.
        const waitMs = this.closing ? 200 : backoffMs * (0.75 + Math.random() * 0.5);
        await sleep(waitMs, undefined, { signal: this.cancelWait.signal }).catch(() => undefined);
        backoffMs = Math.min(this.retry.maxMs, backoffMs * 2);
      } finally {
        metrics.callStoreQueueDepth.set(this.queue.length);
      }
    }
  }

  private failed(err: unknown): void {
    const { logger, store } = this.options;
    const now = Date.now();
    this.lastError = errorMessage(err);
    const first = this.failingSince === undefined;
    this.failingSince ??= now;
    // One line when the database goes, then one a minute with what was not written meanwhile.
    if (first || now - this.lastFailureLog >= (this.options.logEveryMs ?? 60_000)) {
      logger.error(
        { err: this.lastError, database: store.dialect, location: store.location, queued: this.queue.length, failingSinceS: Math.round((now - this.failingSince) / 1000), suppressed: this.suppressedFailures },
        first ? 'call-record database write failed; records kept in the queue and retried' : 'call-record database still failing; records kept in the queue and retried',
      );
      this.lastFailureLog = now;
      this.suppressedFailures = 0;
    } else {
      this.suppressedFailures += 1;
    }
  }

  private recovered(): void {
    if (this.failingSince === undefined) return;
    this.options.logger.warn({ database: this.options.store.dialect, downS: Math.round((Date.now() - this.failingSince) / 1000), queued: this.queue.length }, 'call-record database back; queued records written');
    this.failingSince = undefined;
    this.lastError = undefined;
    this.suppressedFailures = 0;
    this.checked = undefined;
  }

  /**
   * The /readyz check `call-store`. The database's state is shown, but an
   * outage alone does not make the instance unready: calls are analysed live
   * without it and their records wait in the queue, and every instance of a
   * cluster shares the database, so failing them all would stop the live
   * service for a reporting outage. Not ready once the queue is full: from
   * then on this instance drops the records of the calls it takes.
   */
  readiness(): Promise<CheckResult> {
    const now = Date.now();
    if (this.checked === undefined || now - this.checked.at >= CHECK_CACHE_MS) this.checked = { at: now, result: this.check() };
    return this.checked.result;
  }

  private async check(): Promise<CheckResult> {
    const { store, maxQueued, metrics } = this.options;
    let reachable = this.failingSince === undefined;
    let error = this.lastError;
    if (reachable) {
      try {
        await withTimeout(store.ping(), CHECK_TIMEOUT_MS);
        metrics.callStoreUp.set(1);
      } catch (err) {
        reachable = false;
        error = errorMessage(err);
        metrics.callStoreUp.set(0);
      }
    }
    const detail = {
      database: store.dialect,
      state: reachable ? 'ok' : 'unreachable',
      queued: this.queue.length,
      capacity: maxQueued,
      ...(this.failingSince === undefined ? {} : { failingSince: new Date(this.failingSince).toISOString() }),
      ...(reachable ? {} : { lastError: error }),
    };
    if (this.queue.length >= maxQueued) return { ok: false, reason: `call-record queue full (${maxQueued}): records of new calls are dropped until the database takes them`, ...detail };
    return { ok: true, ...detail };
  }

  /** Queues the records a previous run spilled at shutdown (before any new one); resolves to how many. */
  async loadSpill(): Promise<number> {
    const file = this.options.spillFile;
    if (file === undefined) return 0;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return 0;
    }
    const records: CallRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as CallRecord);
      } catch {
        // A line cut by a crash mid-write: the others are still good.
        this.options.logger.warn({ file }, 'unreadable line in the call-record spill file skipped');
      }
    }
    this.queue.unshift(...records);
    this.spillPending += records.length;
    if (records.length > 0) this.options.logger.info({ file, records: records.length }, 'call records spilled at the last shutdown queued again');
    this.kick();
    if (records.length === 0) await unlink(file).catch(() => undefined);
    return records.length;
  }

  private spillWritten(count: number): void {
    if (this.spillPending === 0) return;
    this.spillPending = Math.max(0, this.spillPending - count);
    const file = this.options.spillFile;
    if (this.spillPending === 0 && file !== undefined) void unlink(file).catch(() => undefined);
  }

  /**
   * Writes what it can until `deadline` (a Date.now() value), then stops and
   * spills what is left (written to a temporary file, fsynced, renamed over
   * the spill file, so a crash leaves the old file or the new one). Idempotent.
   */
  async close(deadline: number): Promise<void> {
    if (this.closing) {
      await this.draining;
      return;
    }
    this.closing = true;
    // A writer waiting out a backoff tries once more now.
    this.cancelWait.abort();
    this.cancelWait = new AbortController();
    this.kick();
    const draining = this.draining;
    if (draining !== undefined) await Promise.race([draining, sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false })]);
    this.stopped = true;
    this.cancelWait.abort();
    const left = this.queue.splice(0, this.queue.length);
    this.options.metrics.callStoreQueueDepth.set(0);
    if (left.length > 0) await this.spill(left);
  }

  private async spill(records: readonly CallRecord[]): Promise<void> {
    const { metrics, logger, spillFile } = this.options;
    if (spillFile === undefined) {
      metrics.callStoreRecords.inc({ outcome: 'dropped' }, records.length);
      logger.error({ records: records.length }, 'call records not written to the database before shutdown and no spill file: lost');
      return;
    }
    try {
      await mkdir(path.dirname(spillFile), { recursive: true });
      const temporary = `${spillFile}.${randomUUID()}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await handle.write(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, spillFile);
      metrics.callStoreRecords.inc({ outcome: 'spilled' }, records.length);
      logger.warn({ records: records.length, file: spillFile }, 'call records not yet in the database kept in the spill file; written at the next start');
    } catch (err) {
      metrics.callStoreRecords.inc({ outcome: 'dropped' }, records.length);
      logger.error({ err: errorMessage(err), records: records.length, file: spillFile }, 'call records could not be spilled at shutdown: lost');
    }
  }
}

/** `promise`, or a rejection after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
