/**
 * What must hold for a phi-gate install beyond each object's schema: the objects agree with each
 * other (selectors, ports, names, paths) and with DESIGN §4–§5 (fail closed, graceful shutdown,
 * hardening). Run on the base and on every rendered overlay; returns problems, never throws.
 */
import { posix } from 'node:path';
import type { KubeObject } from './yaml-docs.ts';

const KEYS_DIR = '/etc/phi-gate/keys';

export function installProblems(objects: KubeObject[]): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, message: string) => {
    if (!ok) problems.push(message);
  };
  const one = (kind: string) => objects.filter((o) => o.kind === kind);
  const deployments = one('Deployment');
  need(deployments.length === 1, `expected one Deployment, found ${deployments.length}`);
  const deployment = deployments[0];
  if (!deployment) return problems;
  const pod = deployment.spec.template.spec;
  const podLabels: Record<string, string> = deployment.spec.template.metadata?.labels ?? {};
  const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
    selector !== undefined &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => labels[k] === v);

  // The autoscaler owns the replica count.
  need(deployment.spec.replicas === undefined, 'Deployment must not set replicas (KEDA owns them)');
  need(selects(deployment.spec.selector.matchLabels, podLabels), 'Deployment selector must match its pods');

  // Hardening (DESIGN §5: non-root, read-only root fs).
  need(pod.securityContext?.runAsNonRoot === true, 'pod: runAsNonRoot');
  need(pod.securityContext?.seccompProfile?.type === 'RuntimeDefault', 'pod: seccomp RuntimeDefault');
  need(pod.automountServiceAccountToken === false, 'pod: no service account token');
  const containers: KubeObject[] = pod.containers;
  const container = containers.find((c) => c.name === 'phi-gate');
  need(container, 'a container named phi-gate (the alerts select it by name)');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    need(sc.allowPrivilegeEscalation === false, `${c.name}: allowPrivilegeEscalation false`);
    need(sc.readOnlyRootFilesystem === true, `${c.name}: readOnlyRootFilesystem`);
    need(sc.privileged !== true, `${c.name}: not privileged`);
    need(sc.capabilities?.drop?.includes('ALL'), `${c.name}: drop ALL capabilities`);
    for (const kind of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory']) {
        need(c.resources?.[kind]?.[resource] !== undefined, `${c.name}: resources.${kind}.${resource}`);
      }
    }
    need(!/:latest$|^[^:@]+$/.test(c.image), `${c.name}: image pinned to a tag or digest, not ${c.image}`);
  }
  if (!container) return problems;

  const env = containerEnv(container, objects, problems);
  const metricsPort = container.ports?.find((p: { name: string }) => p.name === 'metrics');
  need(metricsPort, 'container port named metrics');
  need(
    String(metricsPort?.containerPort) === env.PHIGATE_METRICS_PORT,
    'metrics containerPort = PHIGATE_METRICS_PORT',
  );
  const probe = (name: string, path: string) =>
    container[name]?.httpGet?.path === path && container[name]?.httpGet?.port === 'metrics';
  need(probe('livenessProbe', '/healthz'), 'livenessProbe GET /healthz on the metrics port');
  need(probe('readinessProbe', '/readyz'), 'readinessProbe GET /readyz on the metrics port');
  need(probe('startupProbe', '/healthz'), 'startupProbe GET /healthz on the metrics port');

  // SIGTERM: finish and commit the batch in flight, then exit — before the kubelet's SIGKILL.
  const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
  const shutdownMs = Number(env.PHIGATE_SHUTDOWN_TIMEOUT_MS);
  const batchMs = Number(env.PHIGATE_BATCH_MAX_MS);
  need(shutdownMs > 0 && batchMs > 0, 'PHIGATE_SHUTDOWN_TIMEOUT_MS and PHIGATE_BATCH_MAX_MS are set');
  need(shutdownMs >= batchMs + 10_000, 'shutdown timeout leaves a batch plus 10 s for its commit');
  need(graceMs >= shutdownMs + 10_000, 'terminationGracePeriodSeconds exceeds the shutdown timeout by 10 s');

  // Mounts: the policy is hot-reloaded (directory mount, never subPath); keys and credentials are files.
  const mountOf = (path: string) =>
    (container.volumeMounts ?? []).find(
      (m: { mountPath: string }) => path === m.mountPath || path.startsWith(`${m.mountPath}/`),
    );
  const volume = (name: string) => (pod.volumes ?? []).find((v: { name: string }) => v.name === name);
  const policyMount = mountOf(env.PHIGATE_POLICY_FILE ?? '');
  need(policyMount && !policyMount.subPath, 'PHIGATE_POLICY_FILE lies in a directory mount (no subPath)');
  need(
    policyMount && posix.dirname(env.PHIGATE_POLICY_FILE ?? '') === policyMount.mountPath,
    'policy file sits directly in its mount',
  );
  need(policyMount && volume(policyMount.name)?.configMap, 'the policy comes from a ConfigMap');
  const keysMount = mountOf(KEYS_DIR);
  need(keysMount?.mountPath === KEYS_DIR, `keys Secret mounted at ${KEYS_DIR}`);
  const keysVolume = keysMount && volume(keysMount.name);
  need(keysVolume?.secret && keysVolume.secret.optional !== true, 'keys come from a required Secret');
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_FILE')) continue;
    const mount = mountOf(value);
    need(mount?.readOnly === true, `${name}=${value} lies in a read-only mount`);
  }

  // Service → ServiceMonitor → pods.
  const service = one('Service')[0];
  need(service && selects(service.spec.selector, podLabels), 'Service selects the phi-gate pods');
  const servicePort = service?.spec.ports?.find((p: { name: string }) => p.name === 'metrics');
  need(servicePort?.targetPort === 'metrics', 'Service port metrics targets the container port metrics');
  const monitor = one('ServiceMonitor')[0];
  need(
    monitor && service && selects(monitor.spec.selector.matchLabels, service.metadata.labels ?? {}),
    'ServiceMonitor selects the Service',
  );
  need(
    monitor?.spec.endpoints?.every((e: { port: string }) => e.port === 'metrics'),
    'ServiceMonitor scrapes the metrics port',
  );

  const pdb = one('PodDisruptionBudget')[0];
  need(pdb && selects(pdb.spec.selector.matchLabels, podLabels), 'PodDisruptionBudget selects the pods');

  scalingProblems(objects, deployment, env, need);
  networkProblems(one('NetworkPolicy'), podLabels, need);
  need(one('PrometheusRule').length === 1, 'the alert rules ship with the install');
  return problems;
}

function containerEnv(
  container: KubeObject,
  objects: KubeObject[],
  problems: string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (map) Object.assign(env, map.data);
    else problems.push(`envFrom ConfigMap ${name} is not part of the install`);
  }
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

function scalingProblems(
  objects: KubeObject[],
  deployment: KubeObject,
  env: Record<string, string>,
  need: (ok: unknown, message: string) => void,
) {
  const scaled = objects.find((o) => o.kind === 'ScaledObject');
  need(scaled, 'a KEDA ScaledObject scales on consumer lag');
  if (!scaled) return;
  const spec = scaled.spec;
  need(spec.scaleTargetRef?.name === deployment.metadata.name, 'ScaledObject targets the Deployment');
  need(spec.minReplicaCount >= 2, 'at least 2 replicas (the PDB then allows a drain)');
  need(spec.maxReplicaCount >= spec.minReplicaCount, 'maxReplicaCount >= minReplicaCount');
  const kafka = (spec.triggers ?? []).filter((t: { type: string }) => t.type === 'kafka');
  need(kafka.length === 1, 'one kafka trigger');
  for (const trigger of kafka) {
    const m = trigger.metadata ?? {};
    need(m.topic === env.PHIGATE_INPUT_TOPIC, 'trigger topic = PHIGATE_INPUT_TOPIC');
    need(m.consumerGroup === env.PHIGATE_GROUP_ID, 'trigger consumerGroup = PHIGATE_GROUP_ID');
    // Never more pods than partitions: an idle member still takes part in every rebalance.
    need(m.allowIdleConsumers === 'false', 'allowIdleConsumers "false" caps replicas at the partition count');
    const auth = trigger.authenticationRef?.name;
    need(
      objects.some((o) => o.kind === 'TriggerAuthentication' && o.metadata.name === auth),
      'the trigger authenticates with a TriggerAuthentication of the install',
    );
  }
}

function networkProblems(
  policies: KubeObject[],
  podLabels: Record<string, string>,
  need: (ok: unknown, message: string) => void,
) {
  const policy = policies.find((p) =>
    Object.entries(p.spec.podSelector?.matchLabels ?? {}).every(([k, v]) => podLabels[k] === v),
  );
  need(policy, 'a NetworkPolicy selects the phi-gate pods');
  if (!policy) return;
  need(
    policy.spec.policyTypes?.includes('Ingress') && policy.spec.policyTypes?.includes('Egress'),
    'NetworkPolicy restricts both ingress and egress',
  );
  // An egress rule without `to` or without `ports` opens every destination or every port.
  for (const [i, rule] of (policy.spec.egress ?? []).entries()) {
    need(rule.to?.length > 0 && rule.ports?.length > 0, `egress rule ${i} names its peers and ports`);
    for (const peer of rule.to ?? []) {
      need(peer.ipBlock?.cidr !== '0.0.0.0/0', `egress rule ${i} does not open the internet`);
    }
  }
  need((policy.spec.egress ?? []).length >= 3, 'egress to DNS, brokers and registry');
  for (const rule of policy.spec.ingress ?? []) {
    need(
      rule.ports?.every((p: { port: unknown }) => p.port === 'metrics' || p.port === 9464),
      'ingress only to the metrics port',
    );
  }
}
