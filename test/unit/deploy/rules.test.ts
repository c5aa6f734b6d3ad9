/**
 * The alert rules (deploy/prometheus/phi-gate-rules.yaml): every expression parses, every alert is
 * actionable (severity, summary, description, a runbook section that exists), and every failure
 * mode the runbook promises has an alert. deploy/check.sh also runs Prometheus' own rule parser.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DEPLOY, RUNBOOK_FILE } from './helpers/paths.ts';
import { parsePromQL } from './helpers/promql.ts';
import { loadRules } from './helpers/queries.ts';
import { loadDocuments } from './helpers/yaml-docs.ts';

const rules = loadRules();
const alerts = rules.map((r) => r.rule).filter((r) => r.alert !== undefined);

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(
      (heading ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

describe('alert rules', () => {
  test('the failure modes SREs were promised each have an alert', () => {
    const names = new Set(alerts.map((a) => a.alert));
    for (const name of [
      'PhiGateConsumerLagGrowing', // lag growing
      'PhiGateDeadLetterRate', // DLQ rate
      'PhiGateFailedClosed', // failed-closed rate
      'PhiGateTransactionsAborting', // transactions aborting
      'PhiGatePolicyReloadFailing', // policy reload failing
      'PhiGateNoEventsConsumed', // no events for N minutes
      'PhiGatePodRestarting', // pods restarting
    ]) {
      assert.ok(names.has(name), name);
    }
  });

  for (const { group, rule } of rules) {
    test(`${group}/${rule.alert} (${rule.labels?.severity}) parses and is actionable`, () => {
      const parsed = parsePromQL(rule.expr);
      assert.deepEqual(parsed.errors, [], rule.expr);
      assert.ok(parsed.metrics.length > 0, 'queries at least one metric');
      assert.match(rule.alert ?? '', /^PhiGate[A-Z][A-Za-z]+$/);
      if (rule.for !== undefined) assert.match(rule.for, /^([0-9]+[smh])+$/);
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), 'severity warning|critical');
      for (const key of ['summary', 'description', 'runbook_url']) {
        assert.ok((rule.annotations?.[key] ?? '').length > 0, `annotation ${key}`);
      }
    });
  }

  test('each (alert, severity) is defined once', () => {
    const keys = alerts.map((a) => `${a.alert}/${a.labels?.severity}`);
    assert.deepEqual(keys, [...new Set(keys)]);
  });

  test('every runbook_url points at a section of deploy/RUNBOOK.md, and every section at an alert', () => {
    const sections = anchors(readFileSync(RUNBOOK_FILE, 'utf8'));
    const linked = new Set<string>();
    for (const alert of alerts) {
      const [path, anchor] = (alert.annotations?.runbook_url ?? '').split('#');
      assert.equal(path, 'deploy/RUNBOOK.md', alert.alert);
      assert.ok(anchor && sections.has(anchor), `${alert.alert}: no section #${anchor} in RUNBOOK.md`);
      linked.add(anchor);
    }
    const alertSections = [...sections].filter((s) => s.startsWith('phigate'));
    assert.deepEqual(
      alertSections.filter((s) => !linked.has(s)),
      [],
      'runbook sections without an alert',
    );
  });

  test('a broken expression is reported', () => {
    assert.notDeepEqual(parsePromQL('sum(rate(phigate_dlq_records_total[5m])').errors, []);
    assert.notDeepEqual(parsePromQL('rate(phigate_dlq_records_total)').errors, []);
  });

  // promtool runs these (deploy/check.sh); here: each alert has its file, and each of its
  // severities is expected to fire in one case and not to fire in another.
  test('every alert has a promtool unit-test file with a firing and a not-firing case per severity', () => {
    const dir = `${DEPLOY}prometheus/tests/`;
    type AlertTest = { alertname: string; exp_alerts?: { exp_labels?: Record<string, string> }[] };
    const cases = new Map<string, AlertTest[]>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.yaml'))) {
      const [doc] = loadDocuments(`${dir}${file}`) as unknown as {
        rule_files: string[];
        tests: { alert_rule_test?: AlertTest[] }[];
      }[];
      assert.deepEqual(doc?.rule_files, ['phi-gate-rules.groups.yaml'], file);
      for (const t of doc?.tests ?? []) {
        for (const a of t.alert_rule_test ?? []) cases.set(file, [...(cases.get(file) ?? []), a]);
      }
    }
    for (const alert of alerts) {
      const severity = alert.labels?.severity;
      const mine = [...cases].filter(([, c]) => c.some((a) => a.alertname === alert.alert));
      assert.equal(mine.length, 1, `${alert.alert}: exactly one test file`);
      const checks = mine[0]?.[1].filter((a) => a.alertname === alert.alert) ?? [];
      assert.ok(
        checks.some((a) => a.exp_alerts?.some((e) => e.exp_labels?.severity === severity)),
        `${alert.alert} (${severity}): a case where it fires`,
      );
      assert.ok(
        checks.some((a) => !a.exp_alerts?.some((e) => e.exp_labels?.severity === severity)),
        `${alert.alert} (${severity}): a case where it does not fire`,
      );
    }
  });
});
