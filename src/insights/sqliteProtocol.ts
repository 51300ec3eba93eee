import type { CallRecord } from './CallRecord.js';
import type { ReportQuery } from './CallRecordStore.js';

/** A request to the SQLite worker: a method of SqliteRecords and its arguments. */
export type SqliteRequest = { readonly id: number } & (
  | { readonly method: 'migrate'; readonly args: [] }
  | { readonly method: 'write'; readonly args: [records: readonly CallRecord[]] }
  | { readonly method: 'get'; readonly args: [callId: string] }
  | { readonly method: 'erase'; readonly args: [callId: string, at: number] }
  | { readonly method: 'purgeTranscripts'; readonly args: [endedBefore: number] }
  | { readonly method: 'reasonBuckets'; readonly args: [query: ReportQuery] }
  | { readonly method: 'ping'; readonly args: [] }
  | { readonly method: 'close'; readonly args: [] }
);

/** Its answer: the method's value, or the error it threw (name, message, SQLite code such as SQLITE_BUSY). */
export type SqliteResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string; readonly code: string | undefined } };
