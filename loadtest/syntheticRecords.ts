/**
 * Synthetic post-call records with a contact centre's shape, for the insights
 * benchmark and the store tests: four queues of different size, each with
 * its own mix of contact reasons ("where is my order?" flooding delivery),
 * two languages, 200 agents each in one queue, calls over the day's opening
 * hours, repeat contacts and escalations more likely where customers are
 * already unhappy. Deterministic for a seed.
 */
import { type Rand, seeded } from '../src/demo/seededRandom.js';
import type { CallRecord, RecordedIntent, TranscriptLine } from '../src/insights/CallRecord.js';

export { seeded };

function weighted<T extends string>(rand: Rand, weights: Readonly<Record<T, number>>): T {
  const entries = Object.entries(weights) as [T, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let r = rand() * total;
  for (const [value, w] of entries) {
    r -= w;
    if (r < 0) return value;
  }
  return (entries[entries.length - 1] as [T, number])[0];
}

/** The marks of the shipped grammars (grammars/<language>/*.yaml), as a record carries them. */
export const SHIPPED_MARKS: Readonly<Record<string, { avoidable?: string; churnRisk?: boolean }>> = {
  order_status: { avoidable: 'track-and-trace page' },
  refund_request: { avoidable: 'self-service returns portal' },
  churn: { churnRisk: true },
  close_account: { churnRisk: true },
};

const QUEUES = { orders: 30, delivery: 35, billing: 20, retention: 15 } as const;
type Queue = keyof typeof QUEUES;
const NONE = 'none';
/** Primary contact reason per queue; `none` is a call with no reason detected. */
const REASONS: Readonly<Record<Queue, Readonly<Record<string, number>>>> = {
  orders: { cancel_order: 30, order_status: 25, refund_request: 15, complaint: 8, [NONE]: 22 },
  delivery: { order_status: 62, complaint: 10, refund_request: 8, cancel_order: 5, [NONE]: 15 },
  billing: { refund_request: 40, complaint: 20, close_account: 8, order_status: 7, [NONE]: 25 },
  retention: { churn: 45, close_account: 25, complaint: 10, refund_request: 5, [NONE]: 15 },
};
const AGENTS_PER_QUEUE = 50;

export interface SyntheticOptions {
  /** Start of the period, ms since the epoch (UTC). */
  readonly from: number;
  readonly days: number;
  /** Add a short redacted transcript of both legs. */
  readonly transcript?: boolean;
  /** With `transcript`: this many final utterances, alternating legs (default 2). */
  readonly transcriptLines?: number;
  /** Id prefix (call ids are `<prefix>-<index>`). */
  readonly prefix?: string;
}

/** The `index`-th synthetic record of a run (one rand per run, records in order). */
export function syntheticRecord(rand: Rand, index: number, options: SyntheticOptions): CallRecord {
  const queue = weighted(rand, QUEUES);
  const language = rand() < 0.6 ? 'en-US' : 'nl-NL';
  const agentId = `${queue}-agent-${String(Math.floor(rand() * AGENTS_PER_QUEUE)).padStart(2, '0')}`;
  // Opening hours 08:00-20:00 UTC, busier late morning.
  const day = Math.floor(rand() * options.days);
  const hour = 8 + Math.min(11.99, Math.abs((rand() + rand() + rand()) / 3 - 0.35) * 12 * 1.4);
  const startedAt = options.from + day * 86_400_000 + Math.floor(hour * 3_600_000);
  const durationMs = 60_000 + Math.floor(rand() * rand() * 900_000);
  const reason = weighted(rand, REASONS[queue]);
  const primaryReason = reason === NONE ? null : reason;
  const unhappy = reason === 'complaint' || reason === 'churn' || reason === 'order_status';
  const repeatContact = rand() < (unhappy ? 0.2 : 0.06);
  const peakRoll = rand() + (repeatContact ? 0.15 : 0) + (reason === 'complaint' ? 0.15 : 0);
  const peakLevel = peakRoll > 0.97 ? 'critical' : peakRoll > 0.88 ? 'high' : peakRoll > 0.72 ? 'elevated' : 'calm';
  const intents: RecordedIntent[] = [];
  if (primaryReason !== null) intents.push(intent(primaryReason, 'intent', 'customer', 4000 + Math.floor(rand() * 20_000), rand));
  if (rand() < 0.15) intents.push(intent(weighted(rand, REASONS[queue]) === NONE ? 'order_status' : 'refund_request', 'intent', 'customer', 40_000, rand));
  if (repeatContact) intents.push(intent('repeat_contact', 'escalation', 'customer', 9000, rand));
  if (peakLevel === 'high' || peakLevel === 'critical') intents.push(intent('speak_to_manager', 'escalation', 'customer', 30_000, rand));
  const marks = primaryReason === null ? undefined : SHIPPED_MARKS[primaryReason];
  const customerMs = Math.floor(durationMs * (0.3 + rand() * 0.3));
  const agentMs = Math.floor(durationMs * (0.2 + rand() * 0.3));
  const transcript: TranscriptLine[] | null =
    options.transcript === true
      ? Array.from({ length: options.transcriptLines ?? 2 }, (_, i) =>
          i % 2 === 0
            ? { leg: 'agent' as const, utteranceId: i, startMs: 500 + i * 4000, endMs: 2500 + i * 4000, text: 'thank you for calling how can i help' }
            : { leg: 'customer' as const, utteranceId: i, startMs: 500 + i * 4000, endMs: 4500 + i * 4000, text: `i am calling about my order [card] ${reason.replaceAll('_', ' ')}` },
        )
      : null;
  return {
    callId: `${options.prefix ?? 'syn'}-${index}`,
    agentId,
    queue,
    language,
    startedAt,
    endedAt: startedAt + durationMs,
    durationMs,
    endReason: rand() < 0.9 ? 'ended-by-request' : 'rtp-timeout',
    primaryReason,
    reasons: [...new Set(intents.filter((i) => i.kind === 'intent').map((i) => i.intent))],
    avoidable: marks?.avoidable !== undefined,
    selfServiceChannel: marks?.avoidable ?? null,
    churnRisk: marks?.churnRisk ?? false,
    repeatContact,
    escalation: {
      peakLevel,
      peakScore: { calm: 0.1, elevated: 0.4, high: 0.7, critical: 0.95 }[peakLevel],
      reasons: peakLevel === 'calm' ? [] : [{ kind: repeatContact ? 'repeat_contact' : 'anger', detail: repeatContact ? 'repeat_contact (customer): "third time i call"' : 'anger/frustration: "ridiculous"', atMs: 9000 }],
    },
    talk: { customerMs, agentMs, customerRatio: Math.round((customerMs / (customerMs + agentMs)) * 1000) / 1000, overtalkCount: Math.floor(rand() * 3), overtalkMs: Math.floor(rand() * 4000), longestSilenceMs: Math.floor(rand() * 15_000) },
    sentiment: { customer: Math.round((rand() * 2 - 1) * 1000) / 1000, agent: Math.round(rand() * 1000) / 1000 },
    utterances: { customer: 3 + Math.floor(rand() * 20), agent: 3 + Math.floor(rand() * 20) },
    intents,
    spans: rand() < 0.05 ? [{ kind: 'secure-pause', leg: 'customer', startMs: 20_000, endMs: 45_000, presses: 0 }, { kind: 'dtmf', leg: 'customer', startMs: 21_000, endMs: 40_000, presses: 16 }] : [],
    transcript,
    erasedAt: null,
  };
}

function intent(name: string, kind: 'intent' | 'escalation', leg: 'customer' | 'agent', atMs: number, rand: Rand): RecordedIntent {
  return { intent: name, kind, leg, atMs, endMs: atMs + 1200, source: rand() < 0.8 ? 'transcript' : 'spotter', evidence: rand() < 0.7 ? 'exact' : 'classifier', confidence: Math.round((0.6 + rand() * 0.4) * 1000) / 1000, text: `${name.replaceAll('_', ' ')}` };
}
