import type { GatewayMetrics } from '../../src/metrics.js';

/** Value of one sample of a metric, or 0 when absent. */
export async function metricValue(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const data = await metric.get();
  const sample = data.values.find((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  return sample?.value ?? 0;
}
