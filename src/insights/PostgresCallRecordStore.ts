import pg from 'pg';
import type { EscalationReason } from '../events.js';
import { withoutDetails, type CallRecord } from './CallRecord.js';
import type { CallRecordStore, EraseResult, ReasonBucketRow, ReportQuery } from './CallRecordStore.js';
import { BUCKET_MS } from './buckets.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from './migrations.js';
import { bucketRowFrom, CALL_COLUMNS, callRow, INTENT_COLUMNS, intentRows, recordFromRows, SPAN_COLUMNS, spanRows, TRANSCRIPT_COLUMNS, transcriptRows, type Row } from './recordRows.js';

/** Key of the advisory lock under which instances of a cluster apply migrations one at a time ("sgw-recs"). */
const MIGRATION_LOCK = 0x7367772d72656373n;
/** PostgreSQL's bind-parameter limit is 65 535 per statement; a multi-row INSERT stays under this. */
const MAX_PARAMS = 60_000;

/**
 * SQLSTATE classes that are the data's fault (22 data exception, 23
 * integrity constraint violation): trying the same record again cannot help.
 * Everything else (connection lost, the server shutting down or starting,
 * too many clients, serialization failures, even a missing table) may pass,
 * so the record is kept and retried rather than lost.
 */
const PERMANENT_SQLSTATE = /^(22|23)/;

/**
 * The shared store: PostgreSQL at DATABASE_URL, which every instance of a
 * cluster writes to. A small pool (4 connections): the writer's batches, the
 * insights API and the purge. The driver is asynchronous, so nothing blocks
 * the event loop. A lost connection fails the request that was using it;
 * the pool opens a new one for the next.
 */
export class PostgresCallRecordStore implements CallRecordStore {
  readonly dialect = 'postgres';
  private readonly pool: pg.Pool;
  private migrated: Promise<void> | undefined;

  constructor(
    readonly url: string,
    options: { onIdleError?: (err: Error) => void; connectTimeoutMs?: number; queryTimeoutMs?: number } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      query_timeout: options.queryTimeoutMs ?? 60_000,
      application_name: 'speech-gateway',
      // Idle connections never keep a process alive on their own (the report command exits when done).
      allowExitOnIdle: true,
    });
    // An idle connection the server closes (restart, outage) is reported here; unhandled it would end the process.
    this.pool.on('error', (err) => options.onIdleError?.(err));
  }

  get location(): string {
    try {
      const url = new URL(this.url);
      if (url.password !== '') url.password = '***';
      return url.toString();
    } catch {
      return 'postgres://(unparsable URL)';
    }
  }

  migrate(): Promise<void> {
    this.migrated ??= this.applyMigrations().catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  /**
   * A connection of the pool for a transaction. A connection that breaks while
   * held (the server restarting, an administrator ending it) rejects the query
   * running on it and is also reported as an event, which unheard would end
   * the process: heard here, and the connection is not given back for reuse.
   */
  private async checkout(): Promise<{ readonly client: pg.PoolClient; readonly release: (broken?: boolean) => void }> {
    const client = await this.pool.connect();
    let lost = false;
    const onError = (): void => {
      lost = true;
    };
    client.on('error', onError);
    return {
      client,
      release: (broken = false) => {
        client.removeListener('error', onError);
        client.release(broken || lost);
      },
    };
  }

  private async applyMigrations(): Promise<void> {
    const { client, release } = await this.checkout();
    try {
      // One instance of a cluster at a time; the others find the migrations applied when they get the lock.
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
      try {
        await client.query(SCHEMA_MIGRATIONS_TABLE);
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
        for (const migration of MIGRATIONS) {
          if (applied.has(migration.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(migration.postgres);
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
      }
    } finally {
      release();
    }
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.migrate();
    const { client, release } = await this.checkout();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      // A connection that could not even roll back is not given to the next request.
      release(broken);
    }
  }

  async write(records: readonly CallRecord[]): Promise<void> {
    if (records.length === 0) return;
    const recordedAt = Date.now();
    await this.transaction(async (client) => {
      await client.query('DELETE FROM calls WHERE id = ANY($1)', [records.map((r) => r.callId.replaceAll('\u0000', ''))]);
      await insertRows(client, 'calls', CALL_COLUMNS, records.map((r) => callRow(r, (b) => b, recordedAt)));
      await insertRows(client, 'call_intents', INTENT_COLUMNS, records.flatMap(intentRows));
      await insertRows(client, 'call_spans', SPAN_COLUMNS, records.flatMap(spanRows));
      await insertRows(client, 'transcripts', TRANSCRIPT_COLUMNS, records.flatMap(transcriptRows));
    });
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    await this.migrate();
    const call = (await this.pool.query<Row>('SELECT * FROM calls WHERE id = $1', [callId])).rows[0];
    if (call === undefined) return undefined;
    const [intents, spans, transcript] = await Promise.all(
      ['call_intents', 'call_spans', 'transcripts'].map(async (table) => (await this.pool.query<Row>(`SELECT * FROM ${table} WHERE call_id = $1 ORDER BY seq`, [callId])).rows),
    );
    return recordFromRows(call, intents ?? [], spans ?? [], transcript ?? []);
  }

  async erase(callId: string, at: number): Promise<EraseResult> {
    return this.transaction(async (client) => {
      const call = (await client.query<Row>('SELECT escalation_reasons FROM calls WHERE id = $1 FOR UPDATE', [callId])).rows[0];
      if (call === undefined) return { found: false, transcriptLines: 0 };
      const reasons = withoutDetails(JSON.parse(String(call['escalation_reasons'])) as EscalationReason[]);
      const lines = (await client.query('DELETE FROM transcripts WHERE call_id = $1', [callId])).rowCount ?? 0;
      await client.query('UPDATE call_intents SET text = NULL WHERE call_id = $1', [callId]);
      await client.query('UPDATE calls SET escalation_reasons = $1, transcript_retained = false, erased_at = $2 WHERE id = $3', [JSON.stringify(reasons), at, callId]);
      return { found: true, transcriptLines: lines };
    });
  }

  async purgeTranscripts(endedBefore: number): Promise<number> {
    return this.transaction(async (client) => {
      const lines = (await client.query('DELETE FROM transcripts WHERE call_id IN (SELECT id FROM calls WHERE transcript_retained AND ended_at < $1)', [endedBefore])).rowCount ?? 0;
      await client.query('UPDATE calls SET transcript_retained = false WHERE transcript_retained AND ended_at < $1', [endedBefore]);
      return lines;
    });
  }

  async reasonBuckets(query: ReportQuery): Promise<ReasonBucketRow[]> {
    await this.migrate();
    const params: unknown[] = [BUCKET_MS[query.bucket], query.from, query.to];
    const where = ['started_at >= $2', 'started_at < $3'];
    if (query.queues !== undefined) {
      params.push([...query.queues]);
      where.push(`queue = ANY($${params.length})`);
    }
    if (query.language !== undefined) {
      params.push(query.language);
      where.push(`language = $${params.length}`);
    }
    if (query.agentId !== undefined) {
      params.push(query.agentId);
      where.push(`agent_id = $${params.length}`);
    }
    const sql = `SELECT started_at - (started_at % $1) AS bucket, primary_reason AS reason, COUNT(*) AS calls,
      COUNT(*) FILTER (WHERE avoidable) AS avoidable, COUNT(*) FILTER (WHERE churn_risk) AS churn_risk,
      COUNT(*) FILTER (WHERE repeat_contact) AS repeat_contact, COUNT(*) FILTER (WHERE escalated) AS escalated,
      MAX(self_service_channel) AS channel
      FROM calls WHERE ${where.join(' AND ')} GROUP BY 1, 2`;
    return (await this.pool.query<Row>(sql, params)).rows.map(bucketRowFrom);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  isTransient(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return !(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE.test(code));
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

/** Multi-row INSERTs of `rows`, as few statements as the bind-parameter limit allows. */
async function insertRows(client: pg.PoolClient, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const values = chunk.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
  }
}
