import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EscalationReason } from '../events.js';
import { withoutDetails, type CallRecord } from './CallRecord.js';
import type { EraseResult, ReasonBucketRow, ReportQuery } from './CallRecordStore.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from './migrations.js';
import { bucketRowFrom, CALL_COLUMNS, callRow, INTENT_COLUMNS, intentRows, recordFromRows, SPAN_COLUMNS, spanRows, TRANSCRIPT_COLUMNS, transcriptRows, type Row } from './recordRows.js';
import { BUCKET_MS } from './buckets.js';

const bool = (value: boolean): number => (value ? 1 : 0);
const insert = (table: string, columns: readonly string[]): string => `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;

/**
 * The SQLite call-record database, synchronous (better-sqlite3). It runs in
 * its own worker thread (sqliteWorker.ts), never on the gateway's event loop:
 * a month's report over a million calls takes a good part of a second.
 * WAL journal, so the report command (another process) reads while the
 * gateway writes; a busy database is waited on for up to 5 s.
 */
export class SqliteRecords {
  private readonly db: Database.Database;
  private statements: ReturnType<SqliteRecords['prepare']> | undefined;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a crash of the gateway loses no committed record; a power cut may lose the last ones.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
  }

  migrate(): void {
    this.db.exec(SCHEMA_MIGRATIONS_TABLE);
    const applied = (): Set<number> => new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    for (const migration of MIGRATIONS) {
      if (applied().has(migration.version)) continue;
      // IMMEDIATE: the write lock first, so two processes starting together apply each migration once.
      this.db
        .transaction(() => {
          if (applied().has(migration.version)) return;
          this.db.exec(migration.sqlite);
          this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
        })
        .immediate();
    }
    this.statements ??= this.prepare();
  }

  private prepare() {
    return {
      deleteCall: this.db.prepare('DELETE FROM calls WHERE id = ?'),
      insertCall: this.db.prepare(insert('calls', CALL_COLUMNS)),
      insertIntent: this.db.prepare(insert('call_intents', INTENT_COLUMNS)),
      insertSpan: this.db.prepare(insert('call_spans', SPAN_COLUMNS)),
      insertTranscript: this.db.prepare(insert('transcripts', TRANSCRIPT_COLUMNS)),
      call: this.db.prepare('SELECT * FROM calls WHERE id = ?'),
      intents: this.db.prepare('SELECT * FROM call_intents WHERE call_id = ? ORDER BY seq'),
      spans: this.db.prepare('SELECT * FROM call_spans WHERE call_id = ? ORDER BY seq'),
      transcript: this.db.prepare('SELECT * FROM transcripts WHERE call_id = ? ORDER BY seq'),
    };
  }

  private get s(): NonNullable<SqliteRecords['statements']> {
    if (this.statements === undefined) this.migrate();
    return this.statements as NonNullable<SqliteRecords['statements']>;
  }

  write(records: readonly CallRecord[], recordedAt = Date.now()): void {
    const s = this.s;
    this.db.transaction(() => {
      for (const record of records) {
        s.deleteCall.run(record.callId);
        s.insertCall.run(...callRow(record, bool, recordedAt));
        for (const row of intentRows(record)) s.insertIntent.run(...row);
        for (const row of spanRows(record)) s.insertSpan.run(...row);
        for (const row of transcriptRows(record)) s.insertTranscript.run(...row);
      }
    })();
  }

  get(callId: string): CallRecord | undefined {
    const s = this.s;
    const call = s.call.get(callId) as Row | undefined;
    if (call === undefined) return undefined;
    return recordFromRows(call, s.intents.all(callId) as Row[], s.spans.all(callId) as Row[], s.transcript.all(callId) as Row[]);
  }

  erase(callId: string, at: number): EraseResult {
    this.migrateOnce();
    return this.db.transaction((): EraseResult => {
      const call = this.db.prepare('SELECT escalation_reasons FROM calls WHERE id = ?').get(callId) as { escalation_reasons: string } | undefined;
      if (call === undefined) return { found: false, transcriptLines: 0 };
      const reasons = withoutDetails(JSON.parse(call.escalation_reasons) as EscalationReason[]);
      const lines = this.db.prepare('DELETE FROM transcripts WHERE call_id = ?').run(callId).changes;
      this.db.prepare('UPDATE call_intents SET text = NULL WHERE call_id = ?').run(callId);
      this.db.prepare('UPDATE calls SET escalation_reasons = ?, transcript_retained = 0, erased_at = ? WHERE id = ?').run(JSON.stringify(reasons), at, callId);
      return { found: true, transcriptLines: lines };
    })();
  }

  purgeTranscripts(endedBefore: number): number {
    this.migrateOnce();
    return this.db.transaction(() => {
      const lines = this.db.prepare('DELETE FROM transcripts WHERE call_id IN (SELECT id FROM calls WHERE transcript_retained = 1 AND ended_at < ?)').run(endedBefore).changes;
      this.db.prepare('UPDATE calls SET transcript_retained = 0 WHERE transcript_retained = 1 AND ended_at < ?').run(endedBefore);
      return lines;
    })();
  }

  reasonBuckets(query: ReportQuery): ReasonBucketRow[] {
    this.migrateOnce();
    const where = ['started_at >= ?', 'started_at < ?'];
    const params: unknown[] = [BUCKET_MS[query.bucket], query.from, query.to];
    if (query.queues !== undefined) {
      where.push(`queue IN (${query.queues.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...query.queues);
    }
    if (query.language !== undefined) {
      where.push('language = ?');
      params.push(query.language);
    }
    if (query.agentId !== undefined) {
      where.push('agent_id = ?');
      params.push(query.agentId);
    }
    const sql = `SELECT started_at - (started_at % ?) AS bucket, primary_reason AS reason, COUNT(*) AS calls,
      SUM(avoidable) AS avoidable, SUM(churn_risk) AS churn_risk, SUM(repeat_contact) AS repeat_contact, SUM(escalated) AS escalated,
      MAX(self_service_channel) AS channel
      FROM calls WHERE ${where.join(' AND ')} GROUP BY 1, 2`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(bucketRowFrom);
  }

  ping(): void {
    this.db.prepare('SELECT 1').get();
  }

  private migrateOnce(): void {
    if (this.statements === undefined) this.migrate();
  }

  close(): void {
    this.db.close();
  }
}
