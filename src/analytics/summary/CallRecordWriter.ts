import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { CallSummary } from '../../events.js';

export interface CallRecordWriterOptions {
  /** JSON-lines file, appended to; its folder is created. */
  readonly file: string;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /**
   * Records waiting for the disk. Past this the newest record is dropped,
   * counted (`sgw_call_records_total{outcome="dropped"}`) and logged: a stuck
   * disk must not grow the gateway's memory without bound.
   */
  readonly maxPending?: number;
}

/**
 * The durable post-call record: one JSON line per call, appended in call-end
 * order by a single writer so lines never interleave. `close()` writes what is
 * pending and fsyncs, so a clean shutdown loses nothing.
 */
export class CallRecordWriter {
  private readonly pending: CallSummary[] = [];
  private readonly maxPending: number;
  private handle: Promise<FileHandle> | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: CallRecordWriterOptions) {
    this.maxPending = options.maxPending ?? 10_000;
  }

  get file(): string {
    return this.options.file;
  }

  /** Queues a record; never throws. */
  write(record: CallSummary): void {
    if (this.closed) {
      this.options.metrics.callRecords.inc({ outcome: 'dropped' });
      this.options.logger.error({ callId: record.callId }, 'call record after close dropped');
      return;
    }
    if (this.pending.length >= this.maxPending) {
      this.options.metrics.callRecords.inc({ outcome: 'dropped' });
      this.options.logger.error({ callId: record.callId, pending: this.pending.length }, 'call record queue full; record dropped');
      return;
    }
    this.pending.push(record);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.pending.length);
      const text = batch.map((r) => JSON.stringify(r)).join('\n') + '\n';
      try {
        this.handle ??= mkdir(path.dirname(this.options.file), { recursive: true }).then(() => open(this.options.file, 'a'));
        const handle = await this.handle;
        await handle.write(text);
        this.options.metrics.callRecords.inc({ outcome: 'written' }, batch.length);
      } catch (err) {
        this.handle = undefined;
        this.options.metrics.callRecords.inc({ outcome: 'failed' }, batch.length);
        this.options.logger.error({ err: errorMessage(err), file: this.options.file, records: batch.length }, 'writing call records failed');
      }
    }
  }

  /** Writes everything pending, fsyncs and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining !== undefined) await this.draining;
    const handle = await this.handle?.catch(() => undefined);
    if (handle === undefined) return;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
