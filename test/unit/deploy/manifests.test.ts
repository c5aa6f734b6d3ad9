/**
 * The Kubernetes manifests: every object valid against its schema, and the install consistent with
 * itself and with DESIGN §4–§5. deploy/check.sh also renders base and overlay with kustomize and
 * hands the results to this file through PHIGATE_DEPLOY_RENDERED (path list), so the rendered
 * objects — patches applied — are checked the same way.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { installProblems } from './helpers/install-invariants.ts';
import { schemaErrors } from './helpers/kube-schemas.ts';
import { K8S_BASE, K8S_EXAMPLE, POLICY_SCHEMA_FILE, RULES_FILE } from './helpers/paths.ts';
import { type KubeObject, loadDocuments, loadEnvFile } from './helpers/yaml-docs.ts';

/** Files holding whole objects (kustomizations, patches and the policy are not objects). */
function objectFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'policy.yaml')
    .map((f) => join(dir, f));
}

function baseObjects(): KubeObject[] {
  // What kustomize's configMapGenerator makes of runtime.env, under its unhashed name.
  const env: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'phi-gate-env' },
    data: loadEnvFile(join(K8S_BASE, 'runtime.env')),
  };
  return [...objectFiles(K8S_BASE).flatMap(loadDocuments), ...loadDocuments(RULES_FILE), env];
}

const rendered = (process.env.PHIGATE_DEPLOY_RENDERED ?? '').split(delimiter).filter(Boolean);

describe('Kubernetes manifests', () => {
  test('every object in deploy/k8s and deploy/prometheus is valid against its schema', () => {
    const objects = [...baseObjects(), ...objectFiles(K8S_EXAMPLE).flatMap(loadDocuments)];
    assert.ok(objects.length >= 10);
    assert.deepEqual(objects.flatMap(schemaErrors), []);
  });

  test('schema errors and unknown kinds are reported', () => {
    const deployment = structuredClone(loadDocuments(join(K8S_BASE, 'deployment.yaml'))[0]!);
    deployment.spec.template.spec.containers[0].resources.limits.cpu = 'two cores';
    assert.match(schemaErrors(deployment).join(), /cpu/);
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    assert.match(schemaErrors(unknown).join(), /no schema known for example.com\/v1\/Widget/);
  });

  test('the base install is consistent and hardened', () => {
    assert.deepEqual(installProblems(baseObjects()), []);
  });

  // The invariants themselves: each broken install must be caught.
  const breakages: [string, (d: KubeObject, env: Record<string, string>) => void, RegExp][] = [
    [
      'writable root',
      (d) => delete d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem,
      /readOnlyRootFilesystem/,
    ],
    [
      'grace shorter than shutdown',
      (d) => (d.spec.template.spec.terminationGracePeriodSeconds = 20),
      /terminationGracePeriodSeconds/,
    ],
    [
      'policy via subPath',
      (d) => (d.spec.template.spec.containers[0].volumeMounts[0].subPath = 'policy.yaml'),
      /no subPath/,
    ],
    ['replicas pinned', (d) => (d.spec.replicas = 3), /replicas/],
    ['no readiness probe', (d) => delete d.spec.template.spec.containers[0].readinessProbe, /readinessProbe/],
    ['group id drift', (_d, env) => (env.PHIGATE_GROUP_ID = 'other'), /consumerGroup/],
  ];
  for (const [name, breakIt, expected] of breakages) {
    test(`a broken install is caught: ${name}`, () => {
      const objects = structuredClone(baseObjects());
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      const env = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'phi-gate-env')!;
      breakIt(deployment, env.data);
      const problems = installProblems(objects);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} in ${JSON.stringify(problems)}`,
      );
    });
  }

  for (const file of rendered) {
    test(`rendered ${file}: valid and consistent`, () => {
      const objects = loadDocuments(file);
      assert.deepEqual(objects.flatMap(schemaErrors), []);
      assert.deepEqual(installProblems(objects), []);
    });
  }
});

describe('example overlay', () => {
  const kustomization = parse(readFileSync(join(K8S_EXAMPLE, 'kustomization.yaml'), 'utf8'));
  const policy = parse(readFileSync(join(K8S_EXAMPLE, 'policy.yaml'), 'utf8'));

  test('its policy is valid against schemas/policy.schema.json', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(
      JSON.parse(readFileSync(POLICY_SCHEMA_FILE, 'utf8')),
    );
    assert.ok(validate(policy), JSON.stringify(validate.errors, null, 2));
  });

  test('every key file the policy names is in the keys Secret, and nothing else is', () => {
    const files = new Set<string>();
    JSON.stringify(policy, (key, value) => {
      if (key === 'file' && typeof value === 'string') files.add(value);
      return value;
    });
    const secret = loadDocuments(join(K8S_EXAMPLE, 'secret-keys.template.yaml'))[0]!;
    const secretFiles = Object.keys(secret.stringData ?? {}).map((k) => `/etc/phi-gate/keys/${k}`);
    assert.deepEqual([...files].sort(), secretFiles.sort());
    for (const name of Object.keys(secret.stringData)) assert.doesNotMatch(name, /private|\.key\.pem$/);
  });

  test('the policy ConfigMap keeps its name, so updates hot-reload instead of restarting pods', () => {
    const generator = kustomization.configMapGenerator.find(
      (g: { name: string }) => g.name === 'phi-gate-policy',
    );
    assert.equal(generator?.options?.disableNameSuffixHash, true);
    assert.deepEqual(generator.files, ['policy.yaml']);
    const deployment = loadDocuments(join(K8S_BASE, 'deployment.yaml'))[0]!;
    const volumes = deployment.spec.template.spec.volumes as { configMap?: { name: string } }[];
    assert.ok(volumes.some((v) => v.configMap?.name === 'phi-gate-policy'));
  });

  test('it supplies what the base leaves to the environment', () => {
    const env = kustomization.configMapGenerator.find((g: { name: string }) => g.name === 'phi-gate-env');
    assert.equal(env.behavior, 'merge');
    const keys = (env.literals as string[]).map((l) => l.split('=')[0]);
    for (const required of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL'])
      assert.ok(keys.includes(required), required);
    const base = loadEnvFile(join(K8S_BASE, 'runtime.env'));
    assert.equal(base.KAFKA_BROKERS, undefined, 'the base names no brokers');
  });
});
