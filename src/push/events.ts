import type { Language } from '../language.js';

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
}

export interface CallStartedEvent extends EventBase {
  readonly type: 'call.started';
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  readonly legs: readonly LegDescription[];
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

export interface IntentEvent extends EventBase {
  readonly type: 'intent';
  readonly leg: LegRole;
  readonly intent: string;
  readonly text: string;
  readonly confidence: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Whether the intent was found in a partial (still changing) hypothesis. */
  readonly partial: boolean;
}

export interface CallEndedEvent extends EventBase {
  readonly type: 'call.ended';
  readonly reason: CallEndReason;
  readonly durationMs: number;
}

export type CallEndReason = 'ended-by-request' | 'rtp-timeout' | 'rtcp-bye' | 'shutdown' | 'error';

export type GatewayEvent = CallStartedEvent | TranscriptEvent | IntentEvent | CallEndedEvent;
export type GatewayEventType = GatewayEvent['type'];

/** Distributes an event type without its publication timestamp. */
type WithoutTs<T> = T extends unknown ? Omit<T, 'ts'> : never;
export type UnpublishedEvent = WithoutTs<GatewayEvent>;
