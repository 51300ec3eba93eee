import type { CallSummary, EscalationReason, LegRole } from '../events.js';

/** One intent as it was raised during the call (every occurrence, not a count). */
export interface RecordedIntent {
  readonly intent: string;
  /** `intent` (a contact reason) or `escalation` (a cue). */
  readonly kind: 'intent' | 'escalation';
  readonly leg: LegRole;
  /** Call time (ms) of the matched words. */
  readonly atMs: number;
  readonly endMs: number;
  /** `transcript` or `spotter` (IntentEvent.source). */
  readonly source: string;
  /** `exact`, `approximate`, `phonetic`, `alternative`, `classifier` (IntentEvent.evidence). */
  readonly evidence: string;
  readonly confidence: number;
  /** The matched words, redacted; free text, removed by an erase (null then). */
  readonly text: string | null;
}

/**
 * A stretch of the call: `dtmf` (a run of key presses, digits never kept),
 * `secure-pause` (card entry: recognition suspended) or `paused` (the platform
 * paused the stream).
 */
export interface RecordedSpan {
  readonly kind: 'dtmf' | 'secure-pause' | 'paused';
  readonly leg: LegRole;
  readonly startMs: number;
  readonly endMs: number;
  /** Key presses in a `dtmf` span; 0 for the others. */
  readonly presses: number;
}

/** A final utterance of the redacted transcript (kept only with TRANSCRIPT_RETENTION=on). */
export interface TranscriptLine {
  readonly leg: LegRole;
  readonly utteranceId: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
}

/**
 * Everything the call-record store keeps of one finished call: the post-call
 * summary, every intent with its time, leg and source, the DTMF and pause
 * spans, what the grammar says of the primary reason (avoidable, churn risk),
 * and, when transcript retention is on, the redacted transcript of both legs.
 * Times of day are ms since the Unix epoch; times in the call ms from its start.
 */
export interface CallRecord {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly endReason: string;
  /** The customer's first contact reason; null when none was detected. */
  readonly primaryReason: string | null;
  /** Every contact reason of the call, in the order first raised. */
  readonly reasons: readonly string[];
  /** The primary reason is marked avoidable in the grammar: self-service could have answered it. */
  readonly avoidable: boolean;
  /** The self-service channel that could have answered it (grammar `avoidable.channel`). */
  readonly selfServiceChannel: string | null;
  /** The primary reason is marked `churn_risk` in the grammar. */
  readonly churnRisk: boolean;
  /** The customer said this is not the first contact about it (intent `repeat_contact`). */
  readonly repeatContact: boolean;
  /** As the call's summary has them (talk: longestSilenceMs is the dead air, on either leg). */
  readonly escalation: CallSummary['escalation'];
  readonly talk: CallSummary['talk'];
  readonly sentiment: CallSummary['sentiment'];
  readonly utterances: CallSummary['utterances'];
  readonly intents: readonly RecordedIntent[];
  readonly spans: readonly RecordedSpan[];
  /** The redacted transcript, final utterances of both legs in time order; null when not retained. */
  readonly transcript: readonly TranscriptLine[] | null;
  /** When an erase removed the call's transcript and free text (ms since the epoch); null otherwise. */
  readonly erasedAt: number | null;
}

/** Escalation levels a call counts as escalated at (peak): the levels where a supervisor should have stepped in. */
export const ESCALATED_LEVELS: readonly string[] = ['high', 'critical'];

/** The record with its call's words removed: what an erase leaves (counts, times, reasons). */
export function erased(record: CallRecord, at: number): CallRecord {
  return {
    ...record,
    escalation: { ...record.escalation, reasons: withoutDetails(record.escalation.reasons) },
    intents: record.intents.map((i) => ({ ...i, text: null })),
    transcript: null,
    erasedAt: at,
  };
}

/** Escalation reasons without their free text (the detail quotes the customer's words): the kind stands in. */
export function withoutDetails(reasons: readonly EscalationReason[]): EscalationReason[] {
  return reasons.map((r) => ({ ...r, detail: r.kind }));
}
