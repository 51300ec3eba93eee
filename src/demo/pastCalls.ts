import type { CallRecord } from '../insights/CallRecord.js';
import { seeded } from './seededRandom.js';

/**
 * Demo data only: a month of made-up past call records, so the insights page
 * has something to show on a fresh demo database. Every record is marked: call
 * ids start with `demo-seed-`, agents are `demo-agent-NN`, and the end reason
 * is `demo-seed`. Nothing outside `speech-gateway demo` (and the browser test
 * of the page) writes these.
 */
export const DEMO_SEED_PREFIX = 'demo-seed-';
const DAY_MS = 86_400_000;

/** What the shipped grammars say of each reason (grammars/*: avoidable, churn_risk). */
const MARKS: Readonly<Record<string, { channel?: string; churnRisk?: boolean }>> = {
  order_status: { channel: 'track-and-trace page' },
  refund_request: { channel: 'self-service returns portal' },
  churn: { churnRisk: true },
  close_account: { churnRisk: true },
};

/** Primary reasons per demo queue, by weight; `null`: no reason detected. */
const REASONS: Readonly<Record<string, readonly (readonly [string | null, number])[]>> = {
  orders: [['cancel_order', 26], ['order_status', 24], ['refund_request', 16], ['complaint', 8], ['close_account', 3], ['churn', 3], [null, 20]],
  delivery: [['order_status', 58], ['complaint', 12], ['refund_request', 9], ['cancel_order', 6], ['churn', 2], [null, 13]],
};

function pick<T>(rand: () => number, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((n, [, w]) => n + w, 0);
  let roll = rand() * total;
  for (const [value, weight] of choices) {
    roll -= weight;
    if (roll < 0) return value;
  }
  const last = choices[choices.length - 1];
  if (last === undefined) throw new Error('pick from no choices');
  return last[0];
}

/**
 * About `perDay` calls a weekday (fewer at weekends) over the `days` before
 * `now`, in opening hours (08:00-20:00 UTC, busiest late morning), with a
 * "where is my order?" wave in the last week as after a carrier's bad day.
 */
export function demoPastCalls(now: number, options: { days?: number; perDay?: number; seed?: number } = {}): CallRecord[] {
  const days = options.days ?? 30;
  const perDay = options.perDay ?? 60;
  // The same seed every time: every demo shows the same month.
  const rand = seeded(options.seed ?? 16);
  const records: CallRecord[] = [];
  const today = now - (now % DAY_MS);
  for (let d = days; d >= 0; d--) {
    const dayStart = today - d * DAY_MS;
    const weekday = new Date(dayStart).getUTCDay();
    const wave = d >= 3 && d <= 6 ? 1.6 : 1;
    const count = Math.round(perDay * (weekday === 0 || weekday === 6 ? 0.45 : 1) * (0.85 + rand() * 0.3));
    for (let i = 0; i < count; i++) {
      const hour = 8 + Math.min(11.99, Math.abs((rand() + rand() + rand()) / 3 - 0.3) * 12 * 1.5);
      const startedAt = dayStart + Math.floor(hour * 3_600_000);
      if (startedAt >= now - 3_600_000) continue;
      const queue = rand() < 0.55 ? 'orders' : 'delivery';
      const reasons = REASONS[queue] ?? [];
      let primaryReason = pick(rand, reasons);
      if (wave > 1 && rand() < 0.3) primaryReason = 'order_status';
      records.push(record(rand, records.length, { queue, startedAt, primaryReason }));
    }
  }
  return records;
}

function record(rand: () => number, index: number, call: { queue: string; startedAt: number; primaryReason: string | null }): CallRecord {
  const { queue, startedAt, primaryReason } = call;
  const durationMs = 60_000 + Math.floor(rand() * rand() * 840_000);
  const unhappy = primaryReason === 'complaint' || primaryReason === 'churn' || primaryReason === 'order_status';
  const repeatContact = rand() < (unhappy ? 0.22 : 0.06);
  const roll = rand() + (repeatContact ? 0.15 : 0) + (primaryReason === 'complaint' ? 0.2 : 0) + (primaryReason === 'churn' ? 0.1 : 0);
  const peakLevel = roll > 0.97 ? 'critical' : roll > 0.87 ? 'high' : roll > 0.7 ? 'elevated' : 'calm';
  const marks = primaryReason === null ? undefined : MARKS[primaryReason];
  const customerMs = Math.floor(durationMs * (0.3 + rand() * 0.3));
  const agentMs = Math.floor(durationMs * (0.2 + rand() * 0.3));
  const at = 4000 + Math.floor(rand() * 20_000);
  return {
    callId: `${DEMO_SEED_PREFIX}${index}`,
    agentId: `demo-agent-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}`,
    queue,
    language: rand() < 0.65 ? 'en-US' : 'nl-NL',
    startedAt,
    endedAt: startedAt + durationMs,
    durationMs,
    endReason: 'demo-seed',
    primaryReason,
    reasons: primaryReason === null ? [] : [primaryReason],
    avoidable: marks?.channel !== undefined,
    selfServiceChannel: marks?.channel ?? null,
    churnRisk: marks?.churnRisk ?? false,
    repeatContact,
    escalation: {
      peakLevel,
      peakScore: { calm: 0.1, elevated: 0.4, high: 0.7, critical: 0.95 }[peakLevel],
      reasons: peakLevel === 'calm' ? [] : [{ kind: repeatContact ? 'repeat_contact' : 'anger', detail: 'demo data', atMs: at + 5000 }],
    },
    talk: { customerMs, agentMs, customerRatio: Math.round((customerMs / (customerMs + agentMs)) * 1000) / 1000, overtalkCount: Math.floor(rand() * 3), overtalkMs: Math.floor(rand() * 4000), longestSilenceMs: Math.floor(rand() * 15_000) },
    sentiment: { customer: Math.round((rand() * 2 - 1) * 1000) / 1000, agent: Math.round(rand() * 1000) / 1000 },
    utterances: { customer: 3 + Math.floor(rand() * 20), agent: 3 + Math.floor(rand() * 20) },
    intents:
      primaryReason === null
        ? []
        : [{ intent: primaryReason, kind: 'intent', leg: 'customer', atMs: at, endMs: at + 1500, source: 'transcript', evidence: 'exact', confidence: 0.9, text: null }],
    spans: [],
    transcript: null,
    erasedAt: null,
  };
}
