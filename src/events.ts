import type { Language } from './language.js';

/** Leg roles of a call. The customer is the external party, the agent ours. */
export type LegRole = 'customer' | 'agent';

export interface LegDescription {
  readonly role: LegRole;
  readonly codec: string;
  readonly clockRate: number;
  readonly host: string;
  readonly rtpPort: number;
}

interface EventBase {
  readonly callId: string;
  /** Milliseconds since the Unix epoch at publication. */
  readonly ts: number;
  /**
   * The hub's cursor, `<epoch>-<seq>` (see EventCursor.ts): the run of the
   * gateway and 1, 2, 3 … over every event that run publishes (all calls, all
   * clients), so a client can resume with `since=<eventId>` and a cursor of
   * an earlier run is known as one.
   */
  readonly eventId: string;
}

export interface CallStartedEvent extends EventBase {
  readonly type: 'call.started';
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  /** Transcripts are pushed by the client (no RTP, no ASR); legs then carry roles only. */
  readonly transcriptsOnly: boolean;
  readonly legs: readonly LegDescription[];
  /** A call recorded over SIPREC: the recording session's SIP and metadata identifiers. */
  readonly siprec?: SiprecIdentifiers;
}

/**
 * Who and what a SIPREC recording session names (RFC 7866 dialog, RFC 7865
 * metadata), so a call can be found in the SBC's or PBX's own records.
 */
export interface SiprecIdentifiers {
  /** Call-ID of the recording session's SIP dialog (SRC to SRS). */
  readonly sipCallId: string;
  /** The metadata's `session_id` of the recorded communication session. */
  readonly sessionId?: string;
  /** The recorded call's Session-ID (RFC 7989), when the metadata gives its `sipSessionID`. */
  readonly sipSessionId?: string;
  /** The metadata's participants: AoR, display name, and the leg of the stream each sends. */
  readonly participants: readonly SiprecParticipant[];
}

export interface SiprecParticipant {
  readonly aor: string;
  readonly name?: string;
  readonly leg?: LegRole;
}

export interface TranscriptEvent extends EventBase {
  readonly type: 'transcript';
  readonly leg: LegRole;
  readonly final: boolean;
  readonly utteranceId: number;
  readonly text: string;
  /** Milliseconds from call start. */
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Why a leg's recognition was suspended: `secure-pause` (card entry, PCI DSS:
 * nothing said is transcribed, DTMF digits are masked) or `paused` (the
 * platform paused the stream, e.g. AudioHook `pause`).
 */
export type PauseReason = 'secure-pause' | 'paused';

/**
 * Audio of a leg that was never transcribed (a recogniser worker died and was
 * replaced); the transcript has a hole between these times.
 */
export interface TranscriptGapEvent extends EventBase {
  readonly type: 'transcript.gap';
  readonly leg: LegRole;
  readonly startMs: number;
  readonly endMs: number;
  /**
   * `asr-worker-restart`: audio lost with a recogniser (worker or server); `asr-backlog`: dropped
   * because the leg's recogniser fell more than its backlog bound behind; `discarded`: audio the platform
   * discarded and never sent (AudioHook `discarded`); otherwise a suspension ({@link PauseReason}).
   */
  readonly reason: 'asr-worker-restart' | 'asr-backlog' | 'discarded' | PauseReason;
}

/** A DTMF key press on a leg. Never part of the transcript. */
export interface DtmfEvent extends EventBase {
  readonly type: 'dtmf';
  readonly leg: LegRole;
  /** The key, or null while a secure pause masks it (card digits). */
  readonly digit: string | null;
  /** Call time (ms) of the press. */
  readonly atMs: number;
  readonly durationMs?: number;
}

export interface EntityValue {
  readonly type: string;
  readonly value: string;
}

export interface IntentEvent extends EventBase {
  readonly type: 'intent';
  readonly leg: LegRole;
  readonly intent: string;
  /** `intent` (a contact reason) or `escalation` (a cue such as a legal threat). */
  readonly kind: 'intent' | 'escalation';
  readonly severity: 'info' | 'warning' | 'critical';
  /** The matched words, redacted. */
  readonly text: string;
  readonly confidence: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Whether the intent was found in a partial (still changing) hypothesis. */
  readonly partial: boolean;
  /**
   * The `utteranceId` of the leg's transcript events the intent was found in,
   * so a client can tie the two. A spotter intent carries the utterance its
   * phrase falls in when the transcript had reached it, otherwise null
   * (ASR_MODE=spot has no transcript).
   */
  readonly utteranceId: number | null;
  /**
   * `transcript`: found in the free transcript; `spotter`: the keyword spotter
   * heard a grammar phrase and the transcript's words before it confirmed it
   * (docs/asr.md).
   */
  readonly source: 'transcript' | 'spotter';
  /**
   * How the phrase was found in the transcript: `exact` words, `approximate`
   * (a misheard word tolerated), `phonetic` (the words sound like the phrase),
   * `alternative` (in a lower-ranked hypothesis of the recogniser's N-best
   * list, rank in `alternative`), `classifier` (no phrase matched: the intent
   * classifier reads the whole final utterance as this intent; `confidence` is
   * its probability, `text` the utterance). Spotter intents are `exact`.
   */
  readonly evidence: 'exact' | 'approximate' | 'phonetic' | 'alternative' | 'classifier';
  /** N-best rank of the hypothesis the phrase was found in; 0 the best. */
  readonly alternative: number;
  /** Slot values captured by the grammar phrase, e.g. `{ order_number: "4567" }`. */
  readonly slots: Readonly<Record<string, string>>;
  /** Entities found in the utterance (order numbers, amounts, dates). */
  readonly entities: readonly EntityValue[];
}

/** Next-best action for the call's agent, from the intent's grammar prompt with entities filled in. */
export interface PromptEvent extends EventBase {
  readonly type: 'prompt';
  /** A prompt given again with the same id replaces the earlier one (completed with entities heard later). */
  readonly promptId: string;
  readonly agentId: string;
  readonly intent: string;
  readonly text: string;
  readonly entities: readonly EntityValue[];
}

export interface SentimentEvent extends EventBase {
  readonly type: 'sentiment';
  readonly leg: LegRole;
  readonly utteranceId: number;
  /** -1 (negative) .. 1 (positive), lexicon based. */
  readonly score: number;
  readonly label: 'negative' | 'neutral' | 'positive';
  readonly startMs: number;
  readonly endMs: number;
}

export interface EscalationReason {
  readonly kind: string;
  readonly detail: string;
  readonly atMs: number;
}

export interface EscalationEvent extends EventBase {
  readonly type: 'escalation';
  readonly level: 'calm' | 'elevated' | 'high' | 'critical';
  readonly previousLevel: 'calm' | 'elevated' | 'high' | 'critical';
  readonly score: number;
  readonly rising: boolean;
  readonly reasons: readonly EscalationReason[];
  /** Call time of the change, ms. */
  readonly atMs: number;
}

/** For supervisors: something on this call needs attention now. */
export interface AlertEvent extends EventBase {
  readonly type: 'alert';
  readonly alertId: string;
  readonly severity: 'warning' | 'critical';
  readonly agentId: string;
  readonly queue: string;
  /**
   * `escalation` (level rose), `intent` (a critical cue such as a legal threat) or
   * `instance-lost` (the gateway that had the call was lost: the call is no longer analysed).
   */
  readonly source: 'escalation' | 'intent' | 'instance-lost';
  readonly message: string;
  readonly reasons: readonly EscalationReason[];
  readonly atMs: number;
}

/** An alert was acknowledged (by a supervisor of its queue or an admin); every screen showing it can mark it. */
export interface AlertAckEvent extends EventBase {
  readonly type: 'alert.ack';
  readonly alertId: string;
  readonly agentId: string;
  readonly queue: string;
  /** The acknowledging principal's token subject. */
  readonly ackedBy: string;
  /** Milliseconds since the Unix epoch. */
  readonly ackedAt: number;
}

export interface CallSummaryEvent extends EventBase {
  readonly type: 'call.summary';
  readonly summary: CallSummary;
}

/** The durable post-call record (one JSON line per call). */
export interface CallSummary {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly endedAt: string;
  readonly endReason: string;
  readonly durationMs: number;
  /** The customer's first contact-reason intent; `unknown` when none was detected. */
  readonly primaryContactReason: string;
  readonly intents: readonly { readonly intent: string; readonly kind: string; readonly leg: LegRole; readonly count: number; readonly firstAtMs: number }[];
  readonly escalation: { readonly peakLevel: string; readonly peakScore: number; readonly reasons: readonly EscalationReason[] };
  readonly talk: {
    readonly customerMs: number;
    readonly agentMs: number;
    /** Customer share of all talk time, 0..1. */
    readonly customerRatio: number;
    readonly overtalkCount: number;
    readonly overtalkMs: number;
    readonly longestSilenceMs: number;
  };
  readonly sentiment: { readonly customer: number | null; readonly agent: number | null };
  readonly utterances: { readonly customer: number; readonly agent: number };
  /** A SIPREC call: its identifiers as the last metadata update left them. */
  readonly siprec?: SiprecIdentifiers;
}

export interface CallEndedEvent extends EventBase {
  readonly type: 'call.ended';
  readonly reason: CallEndReason;
  readonly durationMs: number;
}

/**
 * `stream-closed`: the client of a streamed call (AudioHook, Twilio, an audio fork, AudioSocket, gRPC) ended its stream;
 * `sip-bye`: the SIPREC client (SRC) ended the recording session with a BYE;
 * `instance-lost`: the cluster lost the gateway that had the call (its heartbeat expired); another
 * gateway ended it for it, without a `call.summary` (its analytics went with that gateway).
 */
export type CallEndReason = 'ended-by-request' | 'rtp-timeout' | 'inactivity-timeout' | 'rtcp-bye' | 'stream-closed' | 'sip-bye' | 'shutdown' | 'instance-lost';

export type GatewayEvent =
  | CallStartedEvent
  | TranscriptEvent
  | TranscriptGapEvent
  | DtmfEvent
  | IntentEvent
  | PromptEvent
  | SentimentEvent
  | EscalationEvent
  | AlertEvent
  | AlertAckEvent
  | CallEndedEvent
  | CallSummaryEvent;
export type GatewayEventType = GatewayEvent['type'];

/**
 * Every event type, in the order docs/events.md describes them: the one list
 * the `types=` filter accepts, the docs are checked against and the tests walk.
 * Keyed by type so that the compiler refuses a missing or a foreign one.
 */
const EVENT_TYPE_KEYS: Readonly<Record<GatewayEventType, true>> = {
  'call.started': true,
  transcript: true,
  'transcript.gap': true,
  dtmf: true,
  intent: true,
  prompt: true,
  sentiment: true,
  escalation: true,
  alert: true,
  'alert.ack': true,
  'call.ended': true,
  'call.summary': true,
};
export const EVENT_TYPES: readonly GatewayEventType[] = Object.freeze(Object.keys(EVENT_TYPE_KEYS) as GatewayEventType[]);

export function isEventType(value: string): value is GatewayEventType {
  return Object.hasOwn(EVENT_TYPE_KEYS, value);
}

/** Distributes an event type without what the hub adds at publication (timestamp and cursor). */
type WithoutTs<T> = T extends unknown ? Omit<T, 'ts' | 'eventId'> : never;
export type UnpublishedEvent = WithoutTs<GatewayEvent>;
