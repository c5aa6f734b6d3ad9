/** Every PromQL expression phi-gate's operators will run: alert rules and dashboard queries. */
import { readFileSync } from 'node:fs';
import { DASHBOARD_FILE, RULES_FILE } from './paths.ts';
import { substituteGrafanaVariables } from './promql.ts';
import { loadDocuments } from './yaml-docs.ts';

/** `where` names the rule or panel, for messages; `expr` is plain PromQL (Grafana variables substituted). */
export type Query = { where: string; expr: string };

export type AlertRule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

export function loadRules(file = RULES_FILE): { group: string; rule: AlertRule }[] {
  const out: { group: string; rule: AlertRule }[] = [];
  for (const doc of loadDocuments(file)) {
    if (doc.kind !== 'PrometheusRule') continue;
    for (const group of doc.spec.groups as { name: string; rules: AlertRule[] }[]) {
      for (const rule of group.rules) out.push({ group: group.name, rule });
    }
  }
  return out;
}

export function ruleQueries(file = RULES_FILE): Query[] {
  return loadRules(file).map(({ group, rule }) => ({
    where: `rule ${group}/${rule.alert ?? rule.record} (${rule.labels?.severity ?? 'no severity'})`,
    expr: rule.expr,
  }));
}

type Target = { expr?: string; refId?: string };
type Panel = { id?: number; title?: string; type?: string; targets?: Target[]; panels?: Panel[] };
type Variable = { name: string; type: string; query?: string | { query?: string } };
export type Dashboard = { panels: Panel[]; templating?: { list: Variable[] }; [key: string]: unknown };

export function loadDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Panels in order, including those nested in collapsed rows. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function dashboardQueries(dashboard = loadDashboard()): Query[] {
  const out: Query[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.expr === undefined) continue;
      out.push({
        where: `panel "${panel.title}" ${target.refId ?? ''}`.trim(),
        expr: substituteGrafanaVariables(target.expr),
      });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const raw = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    out.push({ where: `variable $${variable.name}`, expr: variableExpression(raw) });
  }
  return out;
}

/**
 * The PromQL inside a Grafana Prometheus variable query: label_values(SELECTOR, label) → SELECTOR,
 * query_result(EXPR) → EXPR, metrics(regex) has none. Anything else is returned unchanged and so
 * fails to parse, which is the point.
 */
export function variableExpression(query: string): string {
  const labelValues = /^\s*label_values\(\s*(.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(query);
  if (labelValues?.[1]) return substituteGrafanaVariables(labelValues[1]);
  const queryResult = /^\s*query_result\(\s*(.+)\)\s*$/s.exec(query);
  if (queryResult?.[1]) return substituteGrafanaVariables(queryResult[1]);
  return query;
}
