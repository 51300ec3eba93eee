import type { CallRecord } from './CallRecord.js';

/** What a contact-reason report covers: a period of call starts, narrowed by queue, language and agent. */
export interface ReportQuery {
  /** Inclusive, ms since the Unix epoch (calls are placed by their start). */
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  readonly bucket: 'day' | 'hour';
  /** Only these queues (a supervisor's scope, or one asked for); undefined: every queue. */
  readonly queues?: readonly string[];
  readonly language?: string;
  readonly agentId?: string;
}

/**
 * One group of the report's single aggregation: the calls of one primary
 * reason (null: none) that started in one bucket (UTC day or hour, ms).
 */
export interface ReasonBucketRow {
  readonly bucket: number;
  readonly reason: string | null;
  readonly calls: number;
  readonly avoidable: number;
  readonly churnRisk: number;
  readonly repeatContact: number;
  readonly escalated: number;
  /** A self-service channel recorded for the reason (the latest grammar mark the calls carried). */
  readonly channel: string | null;
}

/** What an erase did; `found: false` when the store holds no record of the call. */
export interface EraseResult {
  readonly found: boolean;
  readonly transcriptLines: number;
}

/**
 * Where post-call records live: SQLite (embedded, the default) or PostgreSQL
 * (DATABASE_URL; shared by every instance of a cluster). Same logical schema
 * in both (migrations.ts). Every method may reject when the database is
 * unreachable; `isTransient` tells a caller whether trying again later can help.
 */
export interface CallRecordStore {
  /** `sqlite` or `postgres`, for logs, metrics and /readyz. */
  readonly dialect: 'sqlite' | 'postgres';
  /** Where: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /** Applies the migrations not yet applied (idempotent; safe with many instances at once). */
  migrate(): Promise<void>;
  /** Writes records in one transaction; a record already stored (same call id) is replaced. */
  write(records: readonly CallRecord[]): Promise<void>;
  /** The record of a call, its transcript included when retained; undefined when none is stored. */
  get(callId: string): Promise<CallRecord | undefined>;
  /** Deletes a call's transcript and the record's free text (intent words, escalation details); keeps its figures. */
  erase(callId: string, at: number): Promise<EraseResult>;
  /** Deletes the transcripts of calls that ended before `endedBefore` (ms since the epoch); resolves to the lines deleted. */
  purgeTranscripts(endedBefore: number): Promise<number>;
  /** The report's aggregation: calls per bucket and primary reason, with the counts the report's shares come from. */
  reasonBuckets(query: ReportQuery): Promise<ReasonBucketRow[]>;
  /** A round trip to the database. */
  ping(): Promise<void>;
  /** Whether an error of this store may pass if tried again (connection lost, database busy) rather than being the data's fault. */
  isTransient(err: unknown): boolean;
  close(): Promise<void>;
}
