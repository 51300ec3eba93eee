import type { Logger } from '../logger.js';
import type { CallRecordStore } from './CallRecordStore.js';
import { PostgresCallRecordStore } from './PostgresCallRecordStore.js';
import { SqliteCallRecordStore } from './SqliteCallRecordStore.js';

/** The configured store: PostgreSQL with DATABASE_URL, else SQLite at DATABASE_FILE, else none (DATABASE_FILE=off). */
export function openCallRecordStore(settings: { readonly databaseUrl: string | undefined; readonly databaseFile: string | undefined }, logger: Logger): CallRecordStore | undefined {
  if (settings.databaseUrl !== undefined) {
    return new PostgresCallRecordStore(settings.databaseUrl, {
      onIdleError: (err) => logger.warn({ err: err.message }, 'call-record database connection lost while idle; the next request opens a new one'),
    });
  }
  if (settings.databaseFile !== undefined) return new SqliteCallRecordStore(settings.databaseFile);
  return undefined;
}
