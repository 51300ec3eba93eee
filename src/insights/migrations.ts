/**
 * The call-record schema as numbered migrations, applied in order and recorded
 * in `schema_migrations` (version, name, applied_at), each in its own
 * transaction. The same logical schema in both dialects: times of day are
 * BIGINT ms since the Unix epoch (UTC) so that report buckets are the same
 * integer arithmetic on both; flags are BOOLEAN in PostgreSQL and 0/1 INTEGER
 * in SQLite. A shipped migration is never edited: a change is a new one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

/** The tables of migration 1, written once with the types of each dialect. */
function tables(t: { bool: string; real: string; bigint: string }): string {
  return `
CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  language TEXT NOT NULL,
  started_at ${t.bigint} NOT NULL,
  ended_at ${t.bigint} NOT NULL,
  duration_ms ${t.bigint} NOT NULL,
  end_reason TEXT NOT NULL,
  primary_reason TEXT,
  avoidable ${t.bool} NOT NULL,
  self_service_channel TEXT,
  churn_risk ${t.bool} NOT NULL,
  repeat_contact ${t.bool} NOT NULL,
  escalation_peak TEXT NOT NULL,
  escalation_score ${t.real} NOT NULL,
  escalated ${t.bool} NOT NULL,
  escalation_reasons TEXT NOT NULL,
  customer_talk_ms ${t.bigint} NOT NULL,
  agent_talk_ms ${t.bigint} NOT NULL,
  talk_ratio ${t.real} NOT NULL,
  overtalk_count INTEGER NOT NULL,
  overtalk_ms ${t.bigint} NOT NULL,
  dead_air_ms ${t.bigint} NOT NULL,
  dtmf_presses INTEGER NOT NULL,
  secure_pause_ms ${t.bigint} NOT NULL,
  sentiment_customer ${t.real},
  sentiment_agent ${t.real},
  utterances_customer INTEGER NOT NULL,
  utterances_agent INTEGER NOT NULL,
  transcript_retained ${t.bool} NOT NULL,
  erased_at ${t.bigint},
  recorded_at ${t.bigint} NOT NULL
);
CREATE TABLE call_intents (
  call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  intent TEXT NOT NULL,
  kind TEXT NOT NULL,
  leg TEXT NOT NULL,
  at_ms ${t.bigint} NOT NULL,
  end_ms ${t.bigint} NOT NULL,
  source TEXT NOT NULL,
  evidence TEXT NOT NULL,
  confidence ${t.real} NOT NULL,
  text TEXT,
  PRIMARY KEY (call_id, seq)
);
CREATE TABLE call_spans (
  call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  leg TEXT NOT NULL,
  start_ms ${t.bigint} NOT NULL,
  end_ms ${t.bigint} NOT NULL,
  presses INTEGER NOT NULL,
  PRIMARY KEY (call_id, seq)
);
CREATE TABLE transcripts (
  call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  leg TEXT NOT NULL,
  utterance_id INTEGER NOT NULL,
  start_ms ${t.bigint} NOT NULL,
  end_ms ${t.bigint} NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (call_id, seq)
);
CREATE INDEX call_intents_by_intent ON call_intents (intent, call_id);
`;
}

/**
 * The report reads only this index (a covering index: period first, then the
 * filters, then what it counts), so a month of a million calls is an index
 * range scan. The purge finds calls with a transcript by end time.
 */
const REPORT_INDEXES = `
CREATE INDEX calls_report ON calls (started_at, queue, language, agent_id, primary_reason, avoidable, churn_risk, repeat_contact, escalated, self_service_channel);
CREATE INDEX calls_retained_by_end ON calls (ended_at) WHERE transcript_retained;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'calls, call_intents, call_spans, transcripts',
    sqlite: tables({ bool: 'INTEGER', real: 'REAL', bigint: 'INTEGER' }),
    postgres: tables({ bool: 'BOOLEAN', real: 'DOUBLE PRECISION', bigint: 'BIGINT' }),
  },
  {
    version: 2,
    name: 'report and retention indexes',
    // SQLite has no boolean: its partial index says so in its own terms.
    sqlite: REPORT_INDEXES.replace('WHERE transcript_retained', 'WHERE transcript_retained = 1'),
    postgres: REPORT_INDEXES,
  },
];

export const SCHEMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
