import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CallRecord } from './CallRecord.js';
import type { CallRecordStore, EraseResult, ReasonBucketRow, ReportQuery } from './CallRecordStore.js';
import type { SqliteRequest, SqliteResponse } from './sqliteProtocol.js';

type Method = SqliteRequest['method'];
type ArgsOf<M extends Method> = Extract<SqliteRequest, { method: M }>['args'];

/** An error the SQLite worker reported, with SQLite's code (SQLITE_BUSY, SQLITE_CONSTRAINT_…). */
export class SqliteStoreError extends Error {
  override readonly name = 'SqliteStoreError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly errorName: string,
  ) {
    super(message);
  }
}

/**
 * Errors that are the record's own fault (a constraint, a value SQLite will
 * not take): trying again cannot help. Everything else (busy, I/O, disk full,
 * cannot open, the worker gone) may pass, so the record is kept and retried.
 */
const PERMANENT_CODES = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;

/**
 * The embedded store: a SQLite file (DATABASE_FILE) served by one worker
 * thread (sqliteWorker.ts) so that no query runs on the event loop. Requests
 * are answered in order; a worker that dies is replaced at the next request.
 */
export class SqliteCallRecordStore implements CallRecordStore {
  readonly dialect = 'sqlite';
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private migrated: Promise<void> | undefined;
  private closed = false;

  constructor(readonly file: string) {}

  get location(): string {
    return this.file === ':memory:' ? this.file : path.resolve(this.file);
  }

  private call<M extends Method>(method: M, ...args: ArgsOf<M>): Promise<unknown> {
    if (this.closed) return Promise.reject(new SqliteStoreError('call-record store closed', 'CLOSED', 'Error'));
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    // Referenced while it owes an answer, so that a caller awaiting one keeps the process alive; idle it never does.
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./sqliteWorker.js', import.meta.url), { workerData: { file: this.file } });
    worker.on('message', (response: SqliteResponse) => {
      const waiter = this.pending.get(response.id);
      if (waiter === undefined) return;
      this.pending.delete(response.id);
      if (this.pending.size === 0) worker.unref();
      if (response.ok) waiter.resolve(response.value);
      else waiter.reject(new SqliteStoreError(response.error.message, response.error.code, response.error.name));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      // The schema may have been applied by a worker that is gone: checking again is cheap.
      this.migrated = undefined;
      for (const [id, waiter] of this.pending) {
        this.pending.delete(id);
        waiter.reject(new SqliteStoreError(`SQLite worker stopped: ${err.message}`, 'WORKER_EXIT', 'Error'));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    // Idle, the store never keeps the process alive (unref after the listeners: adding one refs it again).
    worker.unref();
    return worker;
  }

  migrate(): Promise<void> {
    this.migrated ??= this.call('migrate').then(
      () => undefined,
      (err: unknown) => {
        this.migrated = undefined;
        throw err;
      },
    );
    return this.migrated;
  }

  async write(records: readonly CallRecord[]): Promise<void> {
    await this.migrate();
    await this.call('write', records);
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    await this.migrate();
    return (await this.call('get', callId)) as CallRecord | undefined;
  }

  async erase(callId: string, at: number): Promise<EraseResult> {
    await this.migrate();
    return (await this.call('erase', callId, at)) as EraseResult;
  }

  async purgeTranscripts(endedBefore: number): Promise<number> {
    await this.migrate();
    return (await this.call('purgeTranscripts', endedBefore)) as number;
  }

  async reasonBuckets(query: ReportQuery): Promise<ReasonBucketRow[]> {
    await this.migrate();
    return (await this.call('reasonBuckets', query)) as ReasonBucketRow[];
  }

  async ping(): Promise<void> {
    await this.call('ping');
  }

  isTransient(err: unknown): boolean {
    if (err instanceof SqliteStoreError) return !(PERMANENT_CODES.test(err.code ?? '') || err.errorName === 'TypeError' || err.errorName === 'RangeError');
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const worker = this.worker;
    // The worker answers in order: once `close` is answered, every request sent before it has been.
    if (worker !== undefined) await this.call('close').catch(() => undefined);
    this.closed = true;
    this.worker = undefined;
    await worker?.terminate();
  }
}
