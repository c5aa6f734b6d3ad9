/**
 * The Grafana dashboard (deploy/grafana/phi-gate.json): importable as it is (a data source variable,
 * no hard-coded data source), a clean layout, every query parses, and every signal SREs were
 * promised is on it. deploy/check.sh also runs every query through Prometheus' own parser.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePromQL } from './helpers/promql.ts';
import { allPanels, dashboardQueries, loadDashboard, variableExpression } from './helpers/queries.ts';

const dashboard = loadDashboard();
const panels = allPanels(dashboard) as {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: { uid: string } }[];
}[];
const content = panels.filter((p) => p.type !== 'row');
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DATASOURCE_VARIABLE = '${datasource}';

describe('Grafana dashboard', () => {
  test('is importable: stable uid, a Prometheus data source variable used by every query', () => {
    assert.equal(dashboard.uid, 'phi-gate');
    assert.ok(Number(dashboard.schemaVersion) >= 36);
    const variables = dashboard.templating?.list ?? [];
    assert.ok(variables.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    for (const panel of content) {
      assert.equal(panel.datasource?.uid, DATASOURCE_VARIABLE, panel.title);
      for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid, DATASOURCE_VARIABLE);
    }
  });

  test('panels have unique ids, titles, descriptions and do not overlap', () => {
    const ids = panels.map((p) => p.id);
    assert.deepEqual(ids, [...new Set(ids)]);
    const cells = new Map<string, string>();
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title} fits the 24-column grid`);
      for (let col = x; col < x + w; col++) {
        for (let row = y; row < y + h; row++) {
          const key = `${col},${row}`;
          assert.equal(cells.get(key), undefined, `${panel.title} overlaps ${cells.get(key)}`);
          cells.set(key, panel.title);
        }
      }
      if (panel.type !== 'row')
        assert.ok(panel.title && panel.description, `panel ${panel.id} title/description`);
    }
  });

  test('every query parses', () => {
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 30);
    for (const { where, expr } of queries)
      assert.deepEqual(parsePromQL(expr).errors, [], `${where}: ${expr}`);
  });

  test('shows every signal SREs were promised', () => {
    const used = new Set(dashboardQueries(dashboard).flatMap(({ expr }) => parsePromQL(expr).metrics));
    for (const metric of [
      'phigate_events_consumed_total', // throughput in
      'phigate_destination_events_total', // per destination: delivered, filtered, failed closed
      'phigate_fail_closed_total',
      'phigate_dlq_records_total',
      'phigate_field_actions_total',
      'phigate_consumer_lag', // per partition
      'phigate_end_to_end_latency_seconds_bucket',
      'phigate_transaction_duration_seconds_bucket',
      'phigate_transactions_total', // aborts
      'phigate_rebalances_total',
      'phigate_policy_info', // version per pod
      'phigate_policy_reloads_total', // reload failures
      'phigate_process_resident_memory_bytes',
      'phigate_nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(used.has(metric), metric);
    }
  });

  test('variable queries are reduced to their PromQL', () => {
    assert.equal(
      variableExpression('label_values(phigate_ready{namespace="$namespace"}, pod)'),
      'phigate_ready{namespace="$namespace"}',
    );
    assert.equal(variableExpression('query_result(sum(phigate_ready))'), 'sum(phigate_ready)');
  });
});
