/**
 * Every metric the Grafana dashboard and the alert rules query must exist in the code: names come
 * from createMetrics() on a fresh registry, uses from the parsed PromQL. Renaming a metric in
 * src/observability/metrics.ts without updating deploy/ fails here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { createMetrics, METRIC_PREFIX } from '../../../src/observability/metrics.ts';
import { EXTERNAL_METRICS, exportedSeries, unknownMetrics } from './helpers/metric-names.ts';
import { parsePromQL } from './helpers/promql.ts';
import { dashboardQueries, type Query, ruleQueries } from './helpers/queries.ts';

function metricUses(queries: Query[]): { where: string; metrics: string[] }[] {
  return queries.map(({ where, expr }) => {
    const parsed = parsePromQL(expr);
    assert.deepEqual(parsed.errors, [], `${where}: ${expr}`);
    return { where, metrics: parsed.metrics };
  });
}

function describeUnknown(unknown: Map<string, string[]>): string {
  return [...unknown].map(([name, where]) => `${name} (used by ${where.join(', ')})`).join('\n');
}

async function codeSeries(): Promise<Set<string>> {
  const registry = new Registry();
  createMetrics(registry);
  return exportedSeries(registry);
}

describe('metric names in deploy/ match src/observability/metrics.ts', () => {
  test('every metric the dashboard queries is exported by phi-gate', async () => {
    const uses = metricUses(dashboardQueries());
    assert.ok(uses.flatMap((u) => u.metrics).length > 20, 'the dashboard should query many metrics');
    const unknown = unknownMetrics(uses, await codeSeries());
    assert.equal(
      unknown.size,
      0,
      `dashboard queries metrics the code does not export:\n${describeUnknown(unknown)}`,
    );
  });

  test('every metric the alert rules query is exported by phi-gate (or named as external)', async () => {
    const uses = metricUses(ruleQueries());
    assert.ok(uses.length >= 7, 'there should be an alert per failure mode');
    const unknown = unknownMetrics(uses, await codeSeries());
    assert.equal(
      unknown.size,
      0,
      `alert rules query metrics the code does not export:\n${describeUnknown(unknown)}`,
    );
  });

  test('external metrics are not phi-gate metrics', () => {
    for (const name of Object.keys(EXTERNAL_METRICS)) assert.ok(!name.startsWith(METRIC_PREFIX), name);
  });

  test('default process metrics carry the prefix the dashboard expects', async () => {
    const series = await codeSeries();
    for (const name of [
      'phigate_process_resident_memory_bytes',
      'phigate_nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(series.has(name), name);
    }
    assert.ok(series.has('phigate_end_to_end_latency_seconds_bucket'), 'histogram series are expanded');
  });

  // The check itself: a metric renamed in code must be reported, with the panel that uses it.
  test('a metric renamed in the code is reported as unknown', async () => {
    const registry = new Registry();
    createMetrics(registry);
    registry.removeSingleMetric('phigate_consumer_lag');
    new Gauge({ name: 'phigate_consumer_lag_records', help: 'renamed', registers: [registry] });
    const unknown = unknownMetrics(
      metricUses([...dashboardQueries(), ...ruleQueries()]),
      await exportedSeries(registry),
    );
    assert.deepEqual([...unknown.keys()], ['phigate_consumer_lag']);
    assert.ok(
      unknown.get('phigate_consumer_lag')?.some((where) => where.includes('Consumer lag per partition')),
    );
  });
});
