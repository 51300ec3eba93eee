import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventFeed } from '../calls/EventBus.js';
import type { CheckResult } from '../Readiness.js';
import { errorMessage } from '../errors.js';
import type { CallRecord } from './CallRecord.js';
import { CallRecordAssembler, type ReasonMarks } from './CallRecordAssembler.js';
import { CallRecordQueue } from './CallRecordQueue.js';
import type { CallRecordStore, EraseResult, ReasonBucketRow, ReportQuery } from './CallRecordStore.js';

export interface CallRecordServiceOptions {
  readonly store: CallRecordStore;
  readonly hub: EventFeed;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly marks: (language: string, intent: string) => ReasonMarks | undefined;
  readonly maxQueued: number;
  readonly spillFile: string | undefined;
  readonly retainTranscripts: boolean;
  readonly retentionDays: number;
  /** How often the retention purge runs; default hourly (and once a minute after start). */
  readonly purgeEveryMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * The call-record store as the gateway runs it: every finished call's record
 * assembled from its events, queued off the live path into the database, the
 * transcript retention purge, and the reads of the API (a call's record, the
 * contact-reason aggregation, erase).
 */
export class CallRecordService {
  private readonly queue: CallRecordQueue;
  private readonly assembler: CallRecordAssembler;
  private purgeTimer: NodeJS.Timeout | undefined;
  private firstPurge: NodeJS.Timeout | undefined;

  constructor(private readonly options: CallRecordServiceOptions) {
    const { store, metrics, logger } = options;
    this.queue = new CallRecordQueue({ store, metrics, logger, maxQueued: options.maxQueued, spillFile: options.spillFile });
    this.assembler = new CallRecordAssembler({ hub: options.hub, sink: (record) => this.queue.push(record), marks: options.marks, retainTranscripts: options.retainTranscripts, logger });
  }

  get store(): CallRecordStore {
    return this.options.store;
  }

  get transcriptsRetained(): boolean {
    return this.options.retainTranscripts;
  }

  /**
   * Queues what the last run spilled and starts the purge. The database is
   * not waited for: the gateway serves calls while it is away, and the schema
   * is applied at its first write.
   */
  async start(): Promise<void> {
    const { store, logger } = this.options;
    await this.queue.loadSpill();
    store.migrate().then(
      () => logger.info({ database: store.dialect, location: store.location }, 'call-record database ready'),
      (err: unknown) => logger.warn({ err: errorMessage(err), database: store.dialect, location: store.location }, 'call-record database not reachable at start; records are queued until it is'),
    );
    const every = this.options.purgeEveryMs ?? 3_600_000;
    this.firstPurge = setTimeout(() => void this.purge(), Math.min(every, 60_000));
    this.firstPurge.unref();
    this.purgeTimer = setInterval(() => void this.purge(), every);
    this.purgeTimer.unref();
  }

  /** Deletes transcripts of calls that ended more than the retention period ago; resolves to the lines deleted. */
  async purge(now = Date.now()): Promise<number> {
    const { store, metrics, logger, retentionDays } = this.options;
    try {
      const lines = await store.purgeTranscripts(now - retentionDays * DAY_MS);
      metrics.transcriptsPurged.inc(lines);
      if (lines > 0) logger.info({ lines, retentionDays }, 'transcripts past their retention deleted');
      return lines;
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'transcript retention purge failed; tried again at the next run');
      return 0;
    }
  }

  readiness(): Promise<CheckResult> {
    return this.queue.readiness();
  }

  get(callId: string): Promise<CallRecord | undefined> {
    return this.options.store.get(callId);
  }

  reasonBuckets(query: ReportQuery): Promise<ReasonBucketRow[]> {
    return this.options.store.reasonBuckets(query);
  }

  /**
   * Removes a call's transcript and free text from the database and from a
   * record still waiting in the queue; `found` when either held it.
   */
  async erase(callId: string, at = Date.now()): Promise<EraseResult> {
    const queued = this.queue.erase(callId, at);
    const stored = await this.options.store.erase(callId, at);
    return { found: stored.found || queued, transcriptLines: stored.transcriptLines };
  }

  /** Stops assembling, writes what the database takes before `deadline`, spills the rest, closes the database. */
  async close(deadline: number): Promise<void> {
    clearTimeout(this.firstPurge);
    clearInterval(this.purgeTimer);
    this.assembler.close();
    await this.queue.close(deadline);
    await this.options.store.close();
  }
}
