/**
 * PromQL read with the Prometheus project's own grammar (@prometheus-io/lezer-promql, the parser of
 * the Prometheus UI), so metric names come from the syntax tree: a label value, a function or a
 * `by (...)` label can never be mistaken for a metric. The grammar is error-tolerant; its error
 * nodes become parse errors here. deploy/check.sh additionally runs Prometheus' Go parser.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

export type ParsedPromQL = { metrics: string[]; errors: string[] };

/** Functions whose (first) argument must be a range vector: `rate(x)` parses but fails at query time. */
const RANGE_FUNCTIONS = new Set([
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'predict_linear',
  'changes',
  'resets',
  'double_exponential_smoothing',
  'absent_over_time',
  'present_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'mad_over_time',
]);

/** Grafana's interval variables are not PromQL; any valid duration stands in for them. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m');
}

export function parsePromQL(expr: string): ParsedPromQL {
  const tree = parser.parse(expr);
  const metrics: string[] = [];
  const errors: string[] = [];
  const text = (node: SyntaxNode): string => expr.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errors.push(`syntax error at ${ref.from}: '${expr.slice(ref.from, ref.from + 20)}'`);
        return;
      }
      if (ref.name === 'VectorSelector') {
        const name = selectorMetricName(ref.node, text);
        if (name === undefined) errors.push(`selector without a metric name: ${text(ref.node)}`);
        else metrics.push(name);
      }
      if (ref.name === 'FunctionCall') {
        const problem = rangeArgumentProblem(ref.node, text);
        if (problem) errors.push(problem);
      }
    },
  });
  return { metrics: [...new Set(metrics)], errors };
}

function selectorMetricName(selector: SyntaxNode, text: (n: SyntaxNode) => string): string | undefined {
  const identifier = selector.getChild('Identifier');
  if (identifier) return text(identifier);
  // {__name__="metric"}
  for (const matcher of selector.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
    const label = matcher.getChild('LabelName');
    const value = matcher.getChild('StringLiteral');
    if (label && value && text(label) === '__name__' && matcher.getChild('MatchOp')?.getChild('EqlSingle')) {
      return JSON.parse(text(value).replace(/^'|'$/g, '"')) as string;
    }
  }
  return undefined;
}

function rangeArgumentProblem(call: SyntaxNode, text: (n: SyntaxNode) => string): string | undefined {
  const identifier = call.getChild('FunctionIdentifier');
  if (!identifier || !RANGE_FUNCTIONS.has(text(identifier))) return undefined;
  let argument = call.getChild('FunctionCallBody')?.firstChild ?? null;
  while (argument?.name === 'ParenExpr') argument = argument.firstChild;
  if (argument && (argument.name === 'MatrixSelector' || argument.name === 'SubqueryExpr')) return undefined;
  return `${text(identifier)}() needs a range vector: ${text(call)}`;
}
