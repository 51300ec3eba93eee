/**
 * The metric names a PromQL expression reads, for checking the shipped
 * dashboard and alert rules against a live /metrics scrape. A small scanner
 * rather than a parser: string literals, label matchers, range and subquery
 * brackets and grouping label lists are blanked out, then every remaining
 * identifier that is not a function call, an aggregation or a keyword is a
 * metric name. It errs towards reporting too many names, never too few.
 */

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

export function metricNames(expr: string): Set<string> {
  const blanked = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  // A whole identifier (not the tail of a number such as 5m or 1e3, not a $variable), not followed by "(".
  for (const match of blanked.matchAll(/(?<![\w.$:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1] as string;
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return names;
}

/** Grafana's `label_values(<expr>, <label>)` variable query: the expression inside; other queries as they are. */
export function grafanaVariableExpr(query: string): string {
  const match = /^\s*label_values\(\s*(.*),\s*[A-Za-z_]\w*\s*\)\s*$/s.exec(query);
  return match?.[1] ?? query;
}

/** `# TYPE <name> <type>` lines of a Prometheus text exposition: name → type. */
export function exposedMetricTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1] as string, match[2] as string);
  return types;
}

/**
 * Whether a name a query reads is exposed: as it is, or as a series of a
 * histogram (`_bucket`, `_sum`, `_count`) or summary (`_sum`, `_count`).
 */
export function isExposed(name: string, types: ReadonlyMap<string, string>): boolean {
  if (types.has(name)) return true;
  const series = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (series === null) return false;
  const type = types.get(series[1] as string);
  return type === 'histogram' || (type === 'summary' && series[2] !== 'bucket');
}
