import type { CallSummary, GatewayEvent, LegRole } from '../events.js';
import type { Logger } from '../logger.js';
import type { EventFeed } from '../calls/EventBus.js';
import type { CallRecord, RecordedIntent, RecordedSpan, TranscriptLine } from './CallRecord.js';

/** What the grammar says of a contact reason (GrammarSet's `avoidable` and `churn_risk`). */
export interface ReasonMarks {
  readonly avoidable: { readonly channel: string } | undefined;
  readonly churnRisk: boolean;
}

export interface CallRecordAssemblerOptions {
  readonly hub: EventFeed;
  /** Where finished records go (the database queue); must not throw. */
  readonly sink: (record: CallRecord) => void;
  /** The grammar's marks of an intent in a language, at the call's end; undefined for an intent it no longer has. */
  readonly marks: (language: string, intent: string) => ReasonMarks | undefined;
  /** Keep the redacted transcript of both legs (TRANSCRIPT_RETENTION=on); off: not even held in memory. */
  readonly retainTranscripts: boolean;
  readonly logger: Logger;
}

/** Bounds per call, so one pathological call (hours long, a client pushing without end) cannot grow memory. */
export const MAX_INTENTS_PER_CALL = 1000;
export const MAX_SPANS_PER_CALL = 1000;
export const MAX_TRANSCRIPT_LINES_PER_CALL = 10_000;
/** Calls followed at once; past it the oldest is forgotten (its record then lacks intents, spans and transcript). */
const MAX_OPEN_CALLS = 100_000;
/** Key presses this close (ms) on a leg are one DTMF span (an account number, a menu choice). */
const DTMF_SPAN_GAP_MS = 5000;

interface OpenCall {
  readonly intents: RecordedIntent[];
  readonly spans: RecordedSpan[];
  readonly transcript: TranscriptLine[] | undefined;
  readonly dtmf: Partial<Record<LegRole, { startMs: number; endMs: number; presses: number }>>;
  dropped: number;
}

/**
 * Builds each call's full record from the events the call publishes, as any
 * client of /v1/events would see them: every intent with its time, leg,
 * source and evidence; DTMF runs and secure-pause / platform-pause spans (never
 * digits); the final utterances of both legs, already redacted, when
 * transcripts are retained; then, at `call.summary`, the summary itself and
 * the grammar's marks of the primary reason. The analytics are not touched.
 */
export class CallRecordAssembler {
  private readonly open = new Map<string, OpenCall>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: CallRecordAssemblerOptions) {
    this.unsubscribe = options.hub.subscribe((event, _owner, local) => {
      // This gateway's calls only: in a cluster every gateway sees every call, and each writes its own records.
      if (!local) return;
      // A listener runs inside the publisher's call: nothing here may ever reach the live path as an exception.
      try {
        this.onEvent(event);
      } catch (err) {
        options.logger.error({ err, callId: event.callId, type: event.type }, 'call record assembly failed for an event');
      }
    }, 'call-records');
  }

  private onEvent(event: GatewayEvent): void {
    switch (event.type) {
      case 'call.started':
        this.start(event.callId);
        return;
      case 'intent': {
        const call = this.call(event.callId);
        if (call.intents.length >= MAX_INTENTS_PER_CALL) {
          call.dropped += 1;
          return;
        }
        call.intents.push({
          intent: event.intent,
          kind: event.kind,
          leg: event.leg,
          atMs: event.startMs,
          endMs: event.endMs,
          source: event.source,
          evidence: event.evidence,
          confidence: event.confidence,
          text: event.text,
        });
        return;
      }
      case 'transcript': {
        if (!event.final) return;
        const lines = this.call(event.callId).transcript;
        if (lines === undefined) return;
        if (lines.length >= MAX_TRANSCRIPT_LINES_PER_CALL) {
          this.call(event.callId).dropped += 1;
          return;
        }
        lines.push({ leg: event.leg, utteranceId: event.utteranceId, startMs: event.startMs, endMs: event.endMs, text: event.text });
        return;
      }
      case 'dtmf': {
        const call = this.call(event.callId);
        const run = call.dtmf[event.leg];
        if (run !== undefined && event.atMs - run.endMs <= DTMF_SPAN_GAP_MS) {
          run.endMs = event.atMs + (event.durationMs ?? 0);
          run.presses += 1;
          return;
        }
        if (run !== undefined) this.span(call, { kind: 'dtmf', leg: event.leg, ...run });
        call.dtmf[event.leg] = { startMs: event.atMs, endMs: event.atMs + (event.durationMs ?? 0), presses: 1 };
        return;
      }
      case 'transcript.gap':
        if (event.reason === 'secure-pause' || event.reason === 'paused') this.span(this.call(event.callId), { kind: event.reason, leg: event.leg, startMs: event.startMs, endMs: event.endMs, presses: 0 });
        return;
      case 'call.summary':
        this.finish(event.summary);
        return;
      default:
        return;
    }
  }

  private start(callId: string): OpenCall {
    if (this.open.size >= MAX_OPEN_CALLS) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) {
        this.open.delete(oldest);
        this.options.logger.warn({ callId: oldest }, 'call record assembler: too many open calls; the oldest record will lack its intents and transcript');
      }
    }
    const call: OpenCall = { intents: [], spans: [], transcript: this.options.retainTranscripts ? [] : undefined, dtmf: {}, dropped: 0 };
    this.open.set(callId, call);
    return call;
  }

  /** The call's state; a call whose start this assembler did not see gets one now. */
  private call(callId: string): OpenCall {
    return this.open.get(callId) ?? this.start(callId);
  }

  private span(call: OpenCall, span: RecordedSpan): void {
    if (call.spans.length >= MAX_SPANS_PER_CALL) {
      call.dropped += 1;
      return;
    }
    call.spans.push(span);
  }

  private finish(summary: CallSummary): void {
    const call = this.open.get(summary.callId) ?? { intents: [], spans: [], transcript: undefined, dtmf: {}, dropped: 0 };
    this.open.delete(summary.callId);
    for (const leg of ['customer', 'agent'] as const) {
      const run = call.dtmf[leg];
      if (run !== undefined) this.span(call, { kind: 'dtmf', leg, ...run });
    }
    if (call.dropped > 0) this.options.logger.warn({ callId: summary.callId, dropped: call.dropped }, 'call record: intents, spans or transcript lines past the per-call bound left out');
    const intents =
      call.intents.length > 0 || summary.intents.length === 0
        ? call.intents
        : // The events were missed (the assembler started mid-call): the summary still has each intent's first time.
          summary.intents.map((i) => ({ intent: i.intent, kind: i.kind === 'escalation' ? 'escalation' : 'intent', leg: i.leg, atMs: i.firstAtMs, endMs: i.firstAtMs, source: 'transcript', evidence: 'exact', confidence: 0, text: null }) as const);
    const primaryReason = summary.primaryContactReason === 'unknown' && !intents.some((i) => i.intent === 'unknown') ? null : summary.primaryContactReason;
    const marks = primaryReason === null ? undefined : this.options.marks(summary.language, primaryReason);
    const transcript = call.transcript === undefined ? null : [...call.transcript].sort((a, b) => a.startMs - b.startMs || (a.leg === b.leg ? 0 : a.leg === 'customer' ? -1 : 1));
    const startedAt = Date.parse(summary.startedAt);
    this.options.sink({
      callId: summary.callId,
      agentId: summary.agentId,
      queue: summary.queue,
      language: summary.language,
      startedAt,
      endedAt: Date.parse(summary.endedAt),
      durationMs: summary.durationMs,
      endReason: summary.endReason,
      primaryReason,
      reasons: [...new Set(intents.filter((i) => i.kind === 'intent').map((i) => i.intent))],
      avoidable: marks?.avoidable !== undefined,
      selfServiceChannel: marks?.avoidable?.channel ?? null,
      churnRisk: marks?.churnRisk ?? false,
      repeatContact: summary.intents.some((i) => i.intent === 'repeat_contact' && i.leg === 'customer'),
      escalation: summary.escalation,
      talk: summary.talk,
      sentiment: summary.sentiment,
      utterances: summary.utterances,
      intents,
      spans: [...call.spans].sort((a, b) => a.startMs - b.startMs),
      transcript,
      erasedAt: null,
    });
  }

  close(): void {
    this.unsubscribe();
    this.open.clear();
  }
}
