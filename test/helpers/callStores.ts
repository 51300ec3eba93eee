/**
 * The two call-record databases a store test runs its cases against, each
 * real: a SQLite file in a temporary folder, and a PostgreSQL server started
 * for the test (test/helpers/postgres.ts). `sql` reads the database directly,
 * beside the store, so a test checks what is really stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { CallRecordStore } from '../../src/insights/CallRecordStore.js';
import { PostgresCallRecordStore } from '../../src/insights/PostgresCallRecordStore.js';
import { SqliteCallRecordStore } from '../../src/insights/SqliteCallRecordStore.js';
import { startPostgres, type TestPostgres } from './postgres.js';

export interface StoreHarness {
  readonly dialect: 'sqlite' | 'postgres';
  /** Gateway settings that select this database. */
  readonly settings: { readonly databaseUrl: string | undefined; readonly databaseFile: string | undefined };
  /** A new store on the same database. */
  open(): CallRecordStore;
  /** Rows of a query run directly on the database (`?` placeholders in both dialects). */
  sql(query: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Empties every table (the schema stays). */
  clear(): Promise<void>;
  /** The PostgreSQL server, to stop and start it; undefined for SQLite. */
  readonly server: TestPostgres | undefined;
  destroy(): Promise<void>;
}

export const DIALECTS = ['sqlite', 'postgres'] as const;

export async function storeHarness(dialect: 'sqlite' | 'postgres'): Promise<StoreHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), `sgw-store-${dialect}-`));
  if (dialect === 'sqlite') {
    const file = path.join(dir, 'records.db');
    return {
      dialect,
      settings: { databaseUrl: undefined, databaseFile: file },
      open: () => new SqliteCallRecordStore(file),
      sql(query, params = []) {
        const db = new Database(file);
        try {
          const statement = db.prepare(query);
          return Promise.resolve(statement.reader ? (statement.all(...params) as Record<string, unknown>[]) : (statement.run(...params), []));
        } finally {
          db.close();
        }
      },
      clear() {
        const db = new Database(file);
        db.exec('DELETE FROM transcripts; DELETE FROM call_spans; DELETE FROM call_intents; DELETE FROM calls;');
        db.close();
        return Promise.resolve();
      },
      server: undefined,
      destroy: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const server = await startPostgres();
  return {
    dialect,
    settings: { databaseUrl: server.url, databaseFile: undefined },
    open: () => new PostgresCallRecordStore(server.url, { connectTimeoutMs: 1000 }),
    async sql(query, params = []) {
      const client = new pg.Client(server.url);
      await client.connect();
      try {
        let n = 0;
        return (await client.query(query.replace(/\?/g, () => `$${++n}`), [...params])).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    async clear() {
      const client = new pg.Client(server.url);
      await client.connect();
      await client.query('TRUNCATE calls CASCADE');
      await client.end();
    },
    server,
    async destroy() {
      await server.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
