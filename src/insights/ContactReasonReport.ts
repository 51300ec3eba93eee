import { BUCKET_MS, type Bucket } from './buckets.js';
import type { ReasonBucketRow } from './CallRecordStore.js';

/** The name a call without a detected contact reason is counted under. */
export const NO_REASON = 'none';

/** What the report was asked for, as it says it back. */
export interface ReportFilters {
  readonly queue: string | null;
  /** The queues counted: a supervisor's own when no queue was asked for; null: every queue. */
  readonly queues: readonly string[] | null;
  readonly language: string | null;
  readonly agent: string | null;
}

export interface ReasonFigures {
  readonly reason: string;
  readonly calls: number;
  /** Of all calls in the report, 0..1. */
  readonly share: number;
  readonly avoidable: boolean;
  readonly channel: string | null;
  readonly churnRisk: boolean;
  /** Of this reason's calls, the share whose escalation peaked at high or critical. */
  readonly escalationRate: number;
  /** Of this reason's calls, the share where the customer said they had contacted before. */
  readonly repeatContactShare: number;
}

export interface TrendPoint {
  /** Start of the UTC day or hour, ISO 8601. */
  readonly bucket: string;
  readonly calls: number;
  /** Calls per primary reason in the bucket (reasons with none left out). */
  readonly byReason: Readonly<Record<string, number>>;
}

/**
 * `GET /v1/insights/contact-reasons`, the `report` command and the insights
 * page all show this: why customers called in a period, per primary reason,
 * how many self-service could have answered, how many had called before, how
 * many escalated, and the trend per day or hour.
 */
export interface ContactReasonReport {
  readonly from: string;
  readonly to: string;
  readonly bucket: Bucket;
  readonly filters: ReportFilters;
  readonly calls: number;
  readonly avoidableShare: number;
  readonly repeatContactShare: number;
  readonly escalationRate: number;
  /** By calls, most first (ties by name). */
  readonly reasons: readonly ReasonFigures[];
  /** Every bucket of the period, empty ones included, oldest first. */
  readonly trend: readonly TrendPoint[];
}

/** `part` of `whole`, 0..1 to four decimals; 0 of nothing is 0. */
export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

/** The report from the store's aggregation rows (one per bucket and reason). */
export function buildReport(rows: readonly ReasonBucketRow[], period: { from: number; to: number; bucket: Bucket }, filters: ReportFilters): ContactReasonReport {
  const byReason = new Map<string, { calls: number; avoidable: number; churnRisk: number; repeat: number; escalated: number; channel: string | null }>();
  const byBucket = new Map<number, Map<string, number>>();
  for (const row of rows) {
    const reason = row.reason ?? NO_REASON;
    const figures = byReason.get(reason) ?? { calls: 0, avoidable: 0, churnRisk: 0, repeat: 0, escalated: 0, channel: null };
    figures.calls += row.calls;
    figures.avoidable += row.avoidable;
    figures.churnRisk += row.churnRisk;
    figures.repeat += row.repeatContact;
    figures.escalated += row.escalated;
    figures.channel ??= row.channel;
    byReason.set(reason, figures);
    const bucket = byBucket.get(row.bucket) ?? new Map<string, number>();
    bucket.set(reason, (bucket.get(reason) ?? 0) + row.calls);
    byBucket.set(row.bucket, bucket);
  }
  let calls = 0;
  let avoidable = 0;
  let repeat = 0;
  let escalated = 0;
  for (const f of byReason.values()) {
    calls += f.calls;
    avoidable += f.avoidable;
    repeat += f.repeat;
    escalated += f.escalated;
  }
  const reasons: ReasonFigures[] = [...byReason]
    .map(([reason, f]) => ({
      reason,
      calls: f.calls,
      share: ratio(f.calls, calls),
      avoidable: f.avoidable > 0,
      channel: f.avoidable > 0 ? f.channel : null,
      churnRisk: f.churnRisk > 0,
      escalationRate: ratio(f.escalated, f.calls),
      repeatContactShare: ratio(f.repeat, f.calls),
    }))
    .sort((a, b) => b.calls - a.calls || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
  const size = BUCKET_MS[period.bucket];
  const trend: TrendPoint[] = [];
  for (let start = period.from - (period.from % size); start < period.to; start += size) {
    const bucket = byBucket.get(start);
    const counts = bucket === undefined ? {} : Object.fromEntries(reasons.filter((r) => (bucket.get(r.reason) ?? 0) > 0).map((r) => [r.reason, bucket.get(r.reason) ?? 0]));
    trend.push({ bucket: new Date(start).toISOString(), calls: Object.values(counts).reduce((n, c) => n + c, 0), byReason: counts });
  }
  return {
    from: new Date(period.from).toISOString(),
    to: new Date(period.to).toISOString(),
    bucket: period.bucket,
    filters,
    calls,
    avoidableShare: ratio(avoidable, calls),
    repeatContactShare: ratio(repeat, calls),
    escalationRate: ratio(escalated, calls),
    reasons,
    trend,
  };
}
