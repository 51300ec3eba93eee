import type { ContactReasonReport } from './ContactReasonReport.js';

/** A CSV field: quoted when it must be, and never read as a formula by a spreadsheet. */
function field(value: string | number | boolean | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (fields: readonly (string | number | boolean | null)[]): string => fields.map(field).join(',');

/** The reasons table as CSV (RFC 4180, CRLF), a first row `all` with the report's totals. */
export function reasonsCsv(report: ContactReasonReport): string {
  const rows = [
    line(['reason', 'calls', 'share', 'avoidable', 'channel', 'churn_risk', 'escalation_rate', 'repeat_contact_share']),
    line(['all', report.calls, report.calls === 0 ? 0 : 1, report.avoidableShare, null, null, report.escalationRate, report.repeatContactShare]),
    ...report.reasons.map((r) => line([r.reason, r.calls, r.share, r.avoidable, r.channel, r.churnRisk, r.escalationRate, r.repeatContactShare])),
  ];
  return rows.join('\r\n') + '\r\n';
}

/** The trend as CSV: one row per bucket, its calls, then a column per reason (in the reasons' order). */
export function trendCsv(report: ContactReasonReport): string {
  const reasons = report.reasons.map((r) => r.reason);
  const rows = [line(['bucket', 'calls', ...reasons]), ...report.trend.map((t) => line([t.bucket, t.calls, ...reasons.map((r) => t.byReason[r] ?? 0)]))];
  return rows.join('\r\n') + '\r\n';
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The report for a terminal: totals, the reasons table, the trend. */
export function reportText(report: ContactReasonReport): string {
  const f = report.filters;
  const scope = [
    f.queue !== null ? `queue ${f.queue}` : f.queues !== null ? `queues ${f.queues.join(', ')}` : 'all queues',
    f.language ?? 'all languages',
    f.agent !== null ? `agent ${f.agent}` : 'all agents',
  ].join(', ');
  const out = [
    `Contact reasons ${report.from} to ${report.to} (${scope})`,
    `calls ${report.calls}   avoidable ${percent(report.avoidableShare)}   repeat contact ${percent(report.repeatContactShare)}   escalated ${percent(report.escalationRate)}`,
    '',
  ];
  const width = Math.max(12, ...report.reasons.map((r) => r.reason.length));
  out.push(`${'reason'.padEnd(width)}  ${'calls'.padStart(8)}  ${'share'.padStart(6)}  ${'escalated'.padStart(9)}  ${'repeat'.padStart(6)}  churn  avoidable (self-service channel)`);
  for (const r of report.reasons) {
    out.push(
      `${r.reason.padEnd(width)}  ${String(r.calls).padStart(8)}  ${percent(r.share).padStart(6)}  ${percent(r.escalationRate).padStart(9)}  ${percent(r.repeatContactShare).padStart(6)}  ${(r.churnRisk ? 'yes' : 'no').padEnd(5)}  ${r.avoidable ? `yes (${r.channel ?? '?'})` : 'no'}`,
    );
  }
  out.push('', `Trend per ${report.bucket}`);
  for (const t of report.trend) {
    const top = Object.entries(t.byReason)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    out.push(`${(report.bucket === 'day' ? t.bucket.slice(0, 10) : t.bucket.slice(0, 16)).padEnd(16)}  ${String(t.calls).padStart(8)}  ${top}`);
  }
  return out.join('\n') + '\n';
}
