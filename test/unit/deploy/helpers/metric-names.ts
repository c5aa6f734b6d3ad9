/** The series names a prom-client registry exports, as PromQL sees them. */
import type { Registry } from 'prom-client';

/**
 * Metrics that are not phi-gate's own but that its alerts read, each with its source. A name here
 * must not carry phi-gate's prefix: those must come from the registry.
 */
export const EXTERNAL_METRICS: Readonly<Record<string, string>> = {
  kube_pod_container_status_restarts_total: 'kube-state-metrics',
};

/** Metric names plus the _bucket/_sum/_count series of histograms and the _sum/_count of summaries. */
export async function exportedSeries(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    const type = String(metric.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(metric.name + s);
  }
  return names;
}

/** The names used but neither exported nor external, each with the places that use it. */
export function unknownMetrics(
  used: { where: string; metrics: string[] }[],
  exported: ReadonlySet<string>,
): Map<string, string[]> {
  const unknown = new Map<string, string[]>();
  for (const { where, metrics } of used) {
    for (const name of metrics) {
      if (exported.has(name) || Object.hasOwn(EXTERNAL_METRICS, name)) continue;
      unknown.set(name, [...(unknown.get(name) ?? []), where]);
    }
  }
  return unknown;
}
