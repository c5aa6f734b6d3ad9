/**
 * Prints the rule groups of a PrometheusRule (its spec) as a plain Prometheus rules file, the form
 * promtool and a Prometheus server read. deploy/check.sh and the Prometheus integration test use it.
 * Usage: node test/unit/deploy/helpers/print-rule-groups.ts [phi-gate-rules.yaml] > rules.yaml
 */
import { stringify } from 'yaml';
import { RULES_FILE } from './paths.ts';
import { loadDocuments } from './yaml-docs.ts';

export function ruleGroupsYaml(file = RULES_FILE): string {
  const groups = loadDocuments(file)
    .filter((doc) => doc.kind === 'PrometheusRule')
    .flatMap((doc) => doc.spec.groups);
  if (groups.length === 0) throw new Error(`${file}: no PrometheusRule with rule groups`);
  return stringify({ groups }, { lineWidth: 0 });
}

if (import.meta.main) process.stdout.write(ruleGroupsYaml(process.argv[2]));
