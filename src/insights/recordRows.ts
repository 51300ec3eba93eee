import type { EscalationReason, LegRole } from '../events.js';
import { ESCALATED_LEVELS, type CallRecord, type RecordedIntent, type RecordedSpan, type TranscriptLine } from './CallRecord.js';

/**
 * A CallRecord as the rows of the schema (migrations.ts) and back, for both
 * dialects: the column lists are the one place that ties the record's fields
 * to the tables. `bool` maps a flag to the dialect's value (0/1 in SQLite).
 */
export const CALL_COLUMNS = [
  'id',
  'agent_id',
  'queue',
  'language',
  'started_at',
  'ended_at',
  'duration_ms',
  'end_reason',
  'primary_reason',
  'avoidable',
  'self_service_channel',
  'churn_risk',
  'repeat_contact',
  'escalation_peak',
  'escalation_score',
  'escalated',
  'escalation_reasons',
  'customer_talk_ms',
  'agent_talk_ms',
  'talk_ratio',
  'overtalk_count',
  'overtalk_ms',
  'dead_air_ms',
  'dtmf_presses',
  'secure_pause_ms',
  'sentiment_customer',
  'sentiment_agent',
  'utterances_customer',
  'utterances_agent',
  'transcript_retained',
  'erased_at',
  'recorded_at',
] as const;
export const INTENT_COLUMNS = ['call_id', 'seq', 'intent', 'kind', 'leg', 'at_ms', 'end_ms', 'source', 'evidence', 'confidence', 'text'] as const;
export const SPAN_COLUMNS = ['call_id', 'seq', 'kind', 'leg', 'start_ms', 'end_ms', 'presses'] as const;
export const TRANSCRIPT_COLUMNS = ['call_id', 'seq', 'leg', 'utterance_id', 'start_ms', 'end_ms', 'text'] as const;

export type Bool = (value: boolean) => boolean | number;

/** PostgreSQL refuses NUL in text; a pushed transcript could carry one. */
function text(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
}

function nullableText(value: string | null): string | null {
  return value === null ? null : text(value);
}

export function callRow(record: CallRecord, bool: Bool, recordedAt: number): unknown[] {
  const dtmfPresses = record.spans.reduce((n, s) => n + (s.kind === 'dtmf' ? s.presses : 0), 0);
  const securePauseMs = record.spans.reduce((n, s) => n + (s.kind === 'secure-pause' ? s.endMs - s.startMs : 0), 0);
  return [
    text(record.callId),
    text(record.agentId),
    text(record.queue),
    record.language,
    record.startedAt,
    record.endedAt,
    record.durationMs,
    record.endReason,
    record.primaryReason,
    bool(record.avoidable),
    nullableText(record.selfServiceChannel),
    bool(record.churnRisk),
    bool(record.repeatContact),
    record.escalation.peakLevel,
    record.escalation.peakScore,
    bool(ESCALATED_LEVELS.includes(record.escalation.peakLevel)),
    text(JSON.stringify(record.escalation.reasons)),
    record.talk.customerMs,
    record.talk.agentMs,
    record.talk.customerRatio,
    record.talk.overtalkCount,
    record.talk.overtalkMs,
    record.talk.longestSilenceMs,
    dtmfPresses,
    securePauseMs,
    record.sentiment.customer,
    record.sentiment.agent,
    record.utterances.customer,
    record.utterances.agent,
    bool(record.transcript !== null && record.transcript.length > 0),
    record.erasedAt,
    recordedAt,
  ];
}

export function intentRows(record: CallRecord): unknown[][] {
  return record.intents.map((i, seq) => [text(record.callId), seq, i.intent, i.kind, i.leg, i.atMs, i.endMs, i.source, i.evidence, i.confidence, nullableText(i.text)]);
}

export function spanRows(record: CallRecord): unknown[][] {
  return record.spans.map((s, seq) => [text(record.callId), seq, s.kind, s.leg, s.startMs, s.endMs, s.presses]);
}

export function transcriptRows(record: CallRecord): unknown[][] {
  return (record.transcript ?? []).map((t, seq) => [text(record.callId), seq, t.leg, t.utteranceId, t.startMs, t.endMs, text(t.text)]);
}

/** A row as a driver returns it: column name to value (PostgreSQL BIGINT as a string). */
export type Row = Readonly<Record<string, unknown>>;

const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : str(value));
const flag = (value: unknown): boolean => value === true || value === 1 || value === '1' || value === 't';

/** The record from its rows (intents, spans and transcript lines in `seq` order); `transcript` null when none is kept. */
export function recordFromRows(call: Row, intents: readonly Row[], spans: readonly Row[], transcript: readonly Row[] | null): CallRecord {
  const recordedIntents: RecordedIntent[] = intents.map((r) => ({
    intent: str(r['intent']),
    kind: r['kind'] === 'escalation' ? 'escalation' : 'intent',
    leg: str(r['leg']) as LegRole,
    atMs: num(r['at_ms']),
    endMs: num(r['end_ms']),
    source: str(r['source']),
    evidence: str(r['evidence']),
    confidence: num(r['confidence']),
    text: strOrNull(r['text']),
  }));
  const recordedSpans: RecordedSpan[] = spans.map((r) => ({
    kind: str(r['kind']) as RecordedSpan['kind'],
    leg: str(r['leg']) as LegRole,
    startMs: num(r['start_ms']),
    endMs: num(r['end_ms']),
    presses: num(r['presses']),
  }));
  const lines: TranscriptLine[] | null =
    transcript === null || transcript.length === 0
      ? null
      : transcript.map((r) => ({ leg: str(r['leg']) as LegRole, utteranceId: num(r['utterance_id']), startMs: num(r['start_ms']), endMs: num(r['end_ms']), text: str(r['text']) }));
  const reasons = [...new Set(recordedIntents.filter((i) => i.kind === 'intent').map((i) => i.intent))];
  return {
    callId: str(call['id']),
    agentId: str(call['agent_id']),
    queue: str(call['queue']),
    language: str(call['language']),
    startedAt: num(call['started_at']),
    endedAt: num(call['ended_at']),
    durationMs: num(call['duration_ms']),
    endReason: str(call['end_reason']),
    primaryReason: strOrNull(call['primary_reason']),
    reasons,
    avoidable: flag(call['avoidable']),
    selfServiceChannel: strOrNull(call['self_service_channel']),
    churnRisk: flag(call['churn_risk']),
    repeatContact: flag(call['repeat_contact']),
    escalation: { peakLevel: str(call['escalation_peak']), peakScore: num(call['escalation_score']), reasons: JSON.parse(str(call['escalation_reasons'])) as EscalationReason[] },
    talk: {
      customerMs: num(call['customer_talk_ms']),
      agentMs: num(call['agent_talk_ms']),
      customerRatio: num(call['talk_ratio']),
      overtalkCount: num(call['overtalk_count']),
      overtalkMs: num(call['overtalk_ms']),
      longestSilenceMs: num(call['dead_air_ms']),
    },
    sentiment: { customer: numOrNull(call['sentiment_customer']), agent: numOrNull(call['sentiment_agent']) },
    utterances: { customer: num(call['utterances_customer']), agent: num(call['utterances_agent']) },
    intents: recordedIntents,
    spans: recordedSpans,
    transcript: lines,
    erasedAt: numOrNull(call['erased_at']),
  };
}

/** A report row from the aggregation query's row (both dialects name the columns alike). */
export function bucketRowFrom(r: Row): { bucket: number; reason: string | null; calls: number; avoidable: number; churnRisk: number; repeatContact: number; escalated: number; channel: string | null } {
  return {
    bucket: num(r['bucket']),
    reason: strOrNull(r['reason']),
    calls: num(r['calls']),
    avoidable: num(r['avoidable']),
    churnRisk: num(r['churn_risk']),
    repeatContact: num(r['repeat_contact']),
    escalated: num(r['escalated']),
    channel: strOrNull(r['channel']),
  };
}
