/**
 * loadConfig: the environment → a deeply frozen Config, or one PHIGATE_ERR_CONFIG error that lists
 * EVERY problem (path = the variable's name), so an operator fixes a deployment in one round.
 * Runs once at start; files named by *_FILE variables are read here, not later.
 */
import { PhiGateError, type Problem } from '../errors.ts';
import { defaultValue, parseValue } from './parse.ts';
import { RULES, type RuleInput } from './rules.ts';
import {
  type Config,
  ENV_VARS,
  type EnvValues,
  FOREIGN_PHIGATE_VARS,
  RESERVED_PREFIX,
  type VarName,
  type VarSpec,
} from './schema.ts';
import { closestName } from './suggest.ts';

type Env = Readonly<Record<string, string | undefined>>;

const NAMES = Object.keys(ENV_VARS) as VarName[];
const KNOWN_PHIGATE_NAMES = NAMES.filter((n) => n.startsWith(RESERVED_PREFIX));

/** Blank counts as unset: deployment templates often render `NAME=` for "not set". */
function rawValue(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function unknownVariables(env: Env): Problem[] {
  const problems: Problem[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(RESERVED_PREFIX) || name in ENV_VARS || FOREIGN_PHIGATE_VARS.has(name)) continue;
    if (env[name] === undefined) continue;
    const guess = closestName(name, KNOWN_PHIGATE_NAMES);
    problems.push({
      path: name,
      message:
        guess === undefined
          ? `is not a phi-gate setting; the ${RESERVED_PREFIX} prefix is reserved for the settings in docs/configuration.md (name policy key variables differently)`
          : `is not a phi-gate setting: did you mean ${guess}?`,
    });
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function assemble(v: EnvValues): Config {
  const saslPassword = v.KAFKA_SASL_PASSWORD ?? v.KAFKA_SASL_PASSWORD_FILE;
  const registryPassword = v.SCHEMA_REGISTRY_PASSWORD ?? v.SCHEMA_REGISTRY_PASSWORD_FILE;
  const bearerToken = v.SCHEMA_REGISTRY_BEARER_TOKEN ?? v.SCHEMA_REGISTRY_BEARER_TOKEN_FILE;
  return {
    kafka: {
      brokers: v.KAFKA_BROKERS,
      clientId: v.KAFKA_CLIENT_ID,
      ssl: v.KAFKA_SSL
        ? {
            ...(v.KAFKA_SSL_CA_FILE === undefined ? {} : { ca: v.KAFKA_SSL_CA_FILE }),
            ...(v.KAFKA_SSL_CERT_FILE === undefined ? {} : { cert: v.KAFKA_SSL_CERT_FILE }),
            ...(v.KAFKA_SSL_KEY_FILE === undefined ? {} : { key: v.KAFKA_SSL_KEY_FILE }),
            rejectUnauthorized: v.KAFKA_SSL_REJECT_UNAUTHORIZED,
          }
        : false,
      // rules.ts guarantees username and exactly one password whenever a mechanism is set.
      sasl:
        v.KAFKA_SASL_MECHANISM === undefined
          ? null
          : { mechanism: v.KAFKA_SASL_MECHANISM, username: v.KAFKA_SASL_USERNAME!, password: saslPassword! },
      connectionTimeoutMs: v.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: v.KAFKA_REQUEST_TIMEOUT_MS,
    },
    registry: {
      url: v.SCHEMA_REGISTRY_URL,
      auth:
        v.SCHEMA_REGISTRY_USERNAME === undefined
          ? null
          : { username: v.SCHEMA_REGISTRY_USERNAME, password: registryPassword! },
      ...(bearerToken === undefined ? {} : { bearerToken }),
      ...(v.SCHEMA_REGISTRY_CA_FILE === undefined ? {} : { ca: v.SCHEMA_REGISTRY_CA_FILE }),
      timeoutMs: v.SCHEMA_REGISTRY_TIMEOUT_MS,
    },
    topics: {
      input: v.PHIGATE_INPUT_TOPIC,
      audit: v.PHIGATE_AUDIT_TOPIC,
      dlq: v.PHIGATE_DLQ_TOPIC,
      inventory: v.PHIGATE_INVENTORY_TOPIC,
      partitions: v.PHIGATE_TOPIC_PARTITIONS,
      replicationFactor: v.PHIGATE_TOPIC_REPLICATION,
      create: v.PHIGATE_CREATE_TOPICS,
    },
    groupId: v.PHIGATE_GROUP_ID,
    sessionTimeoutMs: v.PHIGATE_SESSION_TIMEOUT_MS,
    engine: v.PHIGATE_KAFKA_ENGINE,
    transactionalIdPrefix: v.PHIGATE_TRANSACTIONAL_ID_PREFIX,
    ...(v.PHIGATE_INSTANCE_ID === undefined ? {} : { instanceId: v.PHIGATE_INSTANCE_ID }),
    policy: { file: v.PHIGATE_POLICY_FILE, pollMs: v.PHIGATE_POLICY_POLL_MS },
    http: { host: v.PHIGATE_METRICS_HOST, port: v.PHIGATE_METRICS_PORT },
    logLevel: v.PHIGATE_LOG_LEVEL,
    batch: {
      maxRecords: v.PHIGATE_BATCH_MAX_RECORDS,
      maxMs: v.PHIGATE_BATCH_MAX_MS,
      commitIntervalMs: v.PHIGATE_COMMIT_INTERVAL_MS,
    },
    partitionsConsumedConcurrently: v.PHIGATE_PARTITIONS_CONCURRENCY,
    compression: v.PHIGATE_COMPRESSION,
    shutdownTimeoutMs: v.PHIGATE_SHUTDOWN_TIMEOUT_MS,
    retry: { initialMs: v.PHIGATE_RETRY_INITIAL_MS, maxMs: v.PHIGATE_RETRY_MAX_MS },
  };
}

/**
 * Validates the environment and returns the runtime configuration, deeply frozen.
 * @throws PhiGateError PHIGATE_ERR_CONFIG with `problems` listing every invalid, missing,
 *   conflicting or unknown variable. Messages never contain a secret value.
 */
export function loadConfig(env: Env): Config {
  const { values, problems } = parseVariables(env, NAMES);
  problems.push(...unknownVariables(env));
  if (problems.length > 0) {
    throw new PhiGateError('PHIGATE_ERR_CONFIG', 'runtime configuration is invalid', { problems });
  }
  return deepFreeze(assemble(Object.fromEntries(values) as unknown as EnvValues));
}

/** Parses `names` (each against its spec, or its default) and runs the cross-variable rules. */
function parseVariables(
  env: Env,
  names: readonly VarName[],
): { values: Map<VarName, unknown>; problems: Problem[] } {
  const problems: Problem[] = [];
  const values = new Map<VarName, unknown>();
  const set = new Set<VarName>();
  for (const name of names) {
    const spec: VarSpec = ENV_VARS[name];
    const raw = rawValue(env, name);
    if (raw !== undefined) set.add(name);
    const result = raw === undefined ? defaultValue(spec) : parseValue(name, spec, raw);
    if (result.ok) values.set(name, result.value);
    else problems.push({ path: name, message: result.problem });
  }
  // A rule whose variables are not among `names` sees them unset and stays silent.
  const input: RuleInput = { isSet: (name) => set.has(name), get: (name) => values.get(name) };
  for (const rule of RULES) rule(input, problems);
  return { values, problems };
}

const REGISTRY_NAMES: readonly VarName[] = [
  'SCHEMA_REGISTRY_URL',
  'SCHEMA_REGISTRY_USERNAME',
  'SCHEMA_REGISTRY_PASSWORD',
  'SCHEMA_REGISTRY_PASSWORD_FILE',
  'SCHEMA_REGISTRY_BEARER_TOKEN',
  'SCHEMA_REGISTRY_BEARER_TOKEN_FILE',
  'SCHEMA_REGISTRY_CA_FILE',
  'SCHEMA_REGISTRY_TIMEOUT_MS',
  'PHIGATE_INPUT_TOPIC',
];

/**
 * The registry settings and the input topic alone, validated exactly as `loadConfig` does (what
 * `phi-gate check --registry` needs; Kafka settings may be absent).
 * @throws PhiGateError PHIGATE_ERR_CONFIG listing every problem of those variables.
 */
export function loadRegistryConfig(env: Env): { registry: Config['registry']; inputTopic: string } {
  const { values, problems } = parseVariables(env, REGISTRY_NAMES);
  if (problems.length > 0) {
    throw new PhiGateError('PHIGATE_ERR_CONFIG', 'registry configuration is invalid', { problems });
  }
  const config = assemble(Object.fromEntries(values) as unknown as EnvValues);
  return deepFreeze({ registry: config.registry, inputTopic: config.topics.input });
}

const KAFKA_NAMES = (Object.keys(ENV_VARS) as VarName[]).filter((n) => n.startsWith('KAFKA_'));

/**
 * The Kafka connection settings alone, validated exactly as `loadConfig` does (what `phi-gate
 * check` needs to judge the transport of the deployment whose environment it runs in).
 * @throws PhiGateError PHIGATE_ERR_CONFIG listing every problem of those variables.
 */
export function loadKafkaConfig(env: Env): Config['kafka'] {
  const { values, problems } = parseVariables(env, KAFKA_NAMES);
  if (problems.length > 0) {
    throw new PhiGateError('PHIGATE_ERR_CONFIG', 'Kafka configuration is invalid', { problems });
  }
  return deepFreeze(assemble(Object.fromEntries(values) as unknown as EnvValues).kafka);
}

const TOPIC_NAMES: readonly VarName[] = [
  'PHIGATE_INPUT_TOPIC',
  'PHIGATE_AUDIT_TOPIC',
  'PHIGATE_DLQ_TOPIC',
  'PHIGATE_INVENTORY_TOPIC',
];

/**
 * phi-gate's own topics alone (defaults applied), validated as `loadConfig` does: what `phi-gate
 * check` needs to refuse a destination that writes to one of them.
 * @throws PhiGateError PHIGATE_ERR_CONFIG listing every problem of those variables.
 */
export function loadTopicsConfig(env: Env): Pick<Config['topics'], 'input' | 'audit' | 'dlq' | 'inventory'> {
  const { values, problems } = parseVariables(env, TOPIC_NAMES);
  if (problems.length > 0) {
    throw new PhiGateError('PHIGATE_ERR_CONFIG', 'topic configuration is invalid', { problems });
  }
  const { input, audit, dlq, inventory } = assemble(
    Object.fromEntries(values) as unknown as EnvValues,
  ).topics;
  return deepFreeze({ input, audit, dlq, inventory });
}
