/** Where the deploy artefacts live, resolved from this file so tests run from any working directory. */
import { fileURLToPath } from 'node:url';

const root = (relative: string): string => fileURLToPath(new URL(`../../../../${relative}`, import.meta.url));

export const REPO = root('');
export const DEPLOY = root('deploy/');
export const K8S_BASE = root('deploy/k8s/base/');
export const K8S_EXAMPLE = root('deploy/k8s/overlays/example/');
export const RULES_FILE = root('deploy/prometheus/phi-gate-rules.yaml');
export const DASHBOARD_FILE = root('deploy/grafana/phi-gate.json');
export const RUNBOOK_FILE = root('deploy/RUNBOOK.md');
export const POLICY_SCHEMA_FILE = root('schemas/policy.schema.json');
