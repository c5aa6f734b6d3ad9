/**
 * The runtime configuration: every environment variable phi-gate reads, its kind, its default and
 * its range, in one table. `load.ts` parses the environment against this table and assembles the
 * frozen `Config`; docs/configuration.md documents the same table (a test keeps the two in sync).
 */

/** Node's timers overflow above 2^31-1 ms (they then fire after 1 ms), so no duration may exceed it. */
export const MAX_TIMER_MS = 2_147_483_647;
const MAX_INT32 = 2_147_483_647;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
/** Codecs for what phi-gate writes (the kafkajs engine: none, gzip and zstd; src/kafka/kafkajs/compression.ts). */
export const OUTPUT_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
/** The Kafka clients phi-gate runs on (src/kafka/engine.ts). */
export const KAFKA_ENGINES = ['librdkafka', 'kafkajs'] as const;
export type KafkaEngineName = (typeof KAFKA_ENGINES)[number];
export type OutputCompression = (typeof OUTPUT_COMPRESSIONS)[number];

export type LogLevel = (typeof LOG_LEVELS)[number];
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

interface VarBase {
  /** One line for docs/configuration.md and for error messages ("expected ..."). */
  readonly doc: string;
  /** Never echoed in a problem, never shown by describeConfig. */
  readonly secret?: true;
}

/**
 * The kinds of value and what each parses to:
 * - `string`  trimmed text
 * - `secret`  text taken verbatim (a password may begin or end with a space)
 * - `integer` decimal digits only, within [min, max]
 * - `boolean` true | false | 1 | 0
 * - `enum`    one of `values`, case-insensitive, normalized to the listed spelling
 * - `brokers` comma-separated host:port list
 * - `url`     absolute http(s) URL without credentials, query or fragment; trailing slashes removed
 * - `topic`   a legal Kafka topic name
 * - `path`    a readable regular file; the value is the path
 * - `file`    a readable regular file; the value is its CONTENTS (`stripNewline`: minus one trailing newline)
 */
export type VarSpec = VarBase &
  (
    | { readonly kind: 'string'; readonly default?: string; readonly required?: true }
    | { readonly kind: 'secret' }
    | { readonly kind: 'integer'; readonly default: number; readonly min: number; readonly max: number }
    | { readonly kind: 'boolean'; readonly default: boolean }
    | { readonly kind: 'enum'; readonly values: readonly string[]; readonly default?: string }
    | { readonly kind: 'brokers'; readonly required: true }
    | { readonly kind: 'url'; readonly required: true }
    | { readonly kind: 'topic'; readonly default: string }
    | { readonly kind: 'path'; readonly required: true }
    | { readonly kind: 'file'; readonly stripNewline?: true }
  );

export const ENV_VARS = {
  KAFKA_BROKERS: {
    kind: 'brokers',
    required: true,
    doc: 'Kafka bootstrap brokers, comma-separated host:port',
  },
  KAFKA_CLIENT_ID: { kind: 'string', default: 'phi-gate', doc: 'Kafka client id (broker logs and quotas)' },
  KAFKA_SSL: { kind: 'boolean', default: false, doc: 'connect to the brokers with TLS' },
  KAFKA_SSL_CA_FILE: {
    kind: 'file',
    doc: 'PEM CA bundle trusted INSTEAD of the system CAs (needs KAFKA_SSL=true)',
  },
  KAFKA_SSL_CERT_FILE: {
    kind: 'file',
    doc: 'PEM client certificate for mutual TLS (needs KAFKA_SSL=true and KAFKA_SSL_KEY_FILE)',
  },
  KAFKA_SSL_KEY_FILE: {
    kind: 'file',
    secret: true,
    doc: 'PEM private key of the client certificate (needs KAFKA_SSL=true and KAFKA_SSL_CERT_FILE)',
  },
  KAFKA_SSL_REJECT_UNAUTHORIZED: {
    kind: 'boolean',
    default: true,
    doc: 'verify the broker certificate; false only for a throwaway test cluster',
  },
  KAFKA_SASL_MECHANISM: {
    kind: 'enum',
    values: SASL_MECHANISMS,
    doc: 'SASL mechanism; unset means no SASL',
  },
  KAFKA_SASL_USERNAME: { kind: 'string', doc: 'SASL user name (needs KAFKA_SASL_MECHANISM)' },
  KAFKA_SASL_PASSWORD: {
    kind: 'secret',
    secret: true,
    doc: 'SASL password (or KAFKA_SASL_PASSWORD_FILE, not both)',
  },
  KAFKA_SASL_PASSWORD_FILE: {
    kind: 'file',
    secret: true,
    stripNewline: true,
    doc: 'file holding the SASL password; one trailing newline is ignored',
  },
  KAFKA_CONNECTION_TIMEOUT_MS: {
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'TCP + TLS connect timeout per broker',
  },
  KAFKA_REQUEST_TIMEOUT_MS: {
    kind: 'integer',
    default: 30_000,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'timeout of one Kafka protocol request',
  },
  SCHEMA_REGISTRY_URL: {
    kind: 'url',
    required: true,
    doc: 'Confluent-compatible registry API base, e.g. http://registry:8080/apis/ccompat/v7',
  },
  SCHEMA_REGISTRY_USERNAME: { kind: 'string', doc: 'registry basic-auth user (needs a password)' },
  SCHEMA_REGISTRY_PASSWORD: {
    kind: 'secret',
    secret: true,
    doc: 'registry basic-auth password (or SCHEMA_REGISTRY_PASSWORD_FILE, not both)',
  },
  SCHEMA_REGISTRY_PASSWORD_FILE: {
    kind: 'file',
    secret: true,
    stripNewline: true,
    doc: 'file holding the registry password; one trailing newline is ignored',
  },
  SCHEMA_REGISTRY_BEARER_TOKEN: {
    kind: 'secret',
    secret: true,
    doc: 'registry bearer token, sent as Authorization: Bearer (or SCHEMA_REGISTRY_BEARER_TOKEN_FILE, not both; excludes basic auth)',
  },
  SCHEMA_REGISTRY_BEARER_TOKEN_FILE: {
    kind: 'file',
    secret: true,
    stripNewline: true,
    doc: 'file holding the registry bearer token, read once at start; one trailing newline is ignored',
  },
  SCHEMA_REGISTRY_CA_FILE: {
    kind: 'file',
    doc: 'PEM CA bundle trusted INSTEAD of the system CAs for an https:// SCHEMA_REGISTRY_URL',
  },
  SCHEMA_REGISTRY_TIMEOUT_MS: {
    kind: 'integer',
    default: 5_000,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'timeout of one registry HTTP request',
  },
  PHIGATE_INPUT_TOPIC: { kind: 'topic', default: 'events.raw', doc: 'topic of the raw events' },
  PHIGATE_AUDIT_TOPIC: { kind: 'topic', default: 'events.audit', doc: 'compacted audit topic' },
  PHIGATE_DLQ_TOPIC: {
    kind: 'topic',
    default: 'events.dlq',
    doc: 'dead-letter topic for undecodable records',
  },
  PHIGATE_INVENTORY_TOPIC: {
    kind: 'topic',
    default: 'events.inventory',
    doc: 'compacted data-inventory topic: one entry per (input schema id, field path), no values (docs/inventory.md)',
  },
  PHIGATE_TOPIC_PARTITIONS: {
    kind: 'integer',
    default: 3,
    min: 1,
    max: MAX_INT32,
    doc: 'partitions of the topics phi-gate creates',
  },
  PHIGATE_TOPIC_REPLICATION: {
    kind: 'integer',
    default: 3,
    min: 1,
    max: 32_767, // an INT16 in the CreateTopics request
    doc: 'replication factor of the topics phi-gate creates (1 for a single-broker dev stack)',
  },
  PHIGATE_CREATE_TOPICS: {
    kind: 'boolean',
    default: true,
    doc: 'create missing output, audit, inventory and DLQ topics at start',
  },
  PHIGATE_GROUP_ID: { kind: 'string', default: 'phi-gate', doc: 'consumer group id' },
  PHIGATE_SESSION_TIMEOUT_MS: {
    kind: 'integer',
    default: 30_000,
    // the broker's default group.min/max.session.timeout.ms; a cluster set otherwise refuses the join
    min: 6_000,
    max: 1_800_000,
    doc: "consumer group session timeout: how long a member that stopped heart-beating (killed, frozen, cut off) keeps its partitions before they are reassigned; within the cluster's group.min/max.session.timeout.ms",
  },
  PHIGATE_KAFKA_ENGINE: {
    kind: 'enum',
    values: KAFKA_ENGINES,
    default: 'librdkafka',
    doc: 'Kafka client: librdkafka (native, KIP-447 exactly once) or kafkajs (pure JavaScript)',
  },
  PHIGATE_TRANSACTIONAL_ID_PREFIX: {
    kind: 'string',
    default: 'phi-gate',
    doc: 'prefix of the transactional ids (librdkafka: <prefix>-<instance id>; kafkajs: <prefix>-<topic>-<partition>); unique per deployment',
  },
  PHIGATE_INSTANCE_ID: {
    kind: 'string',
    doc: "this instance's name in its transactional id (librdkafka engine); unique among running instances, stable across restarts of one pod; default: the host name (the pod name)",
  },
  PHIGATE_POLICY_FILE: { kind: 'path', required: true, doc: 'the policy YAML file' },
  PHIGATE_POLICY_POLL_MS: {
    kind: 'integer',
    default: 5_000,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'how often the policy file is checked for changes',
  },
  PHIGATE_METRICS_HOST: {
    kind: 'string',
    default: '0.0.0.0',
    doc: 'address the /metrics, /healthz, /readyz server binds',
  },
  PHIGATE_METRICS_PORT: {
    kind: 'integer',
    default: 9464,
    min: 0,
    max: 65_535,
    doc: 'port of that server (0 = any free port, for tests)',
  },
  PHIGATE_LOG_LEVEL: { kind: 'enum', values: LOG_LEVELS, default: 'info', doc: 'log level' },
  PHIGATE_BATCH_MAX_RECORDS: {
    kind: 'integer',
    default: 1000,
    min: 1,
    max: 100_000, // a batch is held in memory and in one transaction: keep it bounded
    doc: 'most input records per batch (the librdkafka engine commits up to two batches in one transaction, the kafkajs engine one)',
  },
  PHIGATE_BATCH_MAX_MS: {
    kind: 'integer',
    default: 100,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'longest a batch waits to fill before it is processed',
  },
  PHIGATE_COMMIT_INTERVAL_MS: {
    kind: 'integer',
    default: 0,
    min: 0,
    max: 60_000,
    doc: "librdkafka engine: least time between the starts of two transactions, as Kafka Streams' commit.interval.ms; 0 starts one as soon as the one before has committed (lowest latency). Longer: fewer, larger transactions, less work per event for the brokers and phi-gate, and up to that much more latency",
  },
  PHIGATE_COMPRESSION: {
    kind: 'enum',
    values: OUTPUT_COMPRESSIONS,
    default: 'none',
    doc: 'compression of the record batches phi-gate writes (input in any Kafka codec is always read)',
  },
  PHIGATE_PARTITIONS_CONCURRENCY: {
    kind: 'integer',
    // one partition's transaction commits while another's batch is processed: at or above the
    // partitions per instance this cut p99 latency and raised throughput (BENCHMARKS.md)
    default: 4,
    min: 1,
    max: 1000,
    doc: 'kafkajs engine: input partitions processed concurrently by one instance (at least the partitions per instance); the librdkafka engine batches across partitions',
  },
  PHIGATE_SHUTDOWN_TIMEOUT_MS: {
    kind: 'integer',
    default: 25_000,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'graceful shutdown budget; keep below the pod terminationGracePeriodSeconds',
  },
  PHIGATE_RETRY_INITIAL_MS: {
    kind: 'integer',
    default: 250,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'first back-off after a broker or registry outage (at most PHIGATE_RETRY_MAX_MS)',
  },
  PHIGATE_RETRY_MAX_MS: {
    kind: 'integer',
    default: 30_000,
    min: 1,
    max: MAX_TIMER_MS,
    doc: 'longest back-off between retries',
  },
} as const satisfies Record<string, VarSpec>;

export type VarName = keyof typeof ENV_VARS;

/**
 * PHIGATE_* names that are not runtime settings but are legitimately set in an operator's shell:
 * the local-stack scripts (deploy/local/env.sh) read PHIGATE_CACHE. Accepted and ignored.
 */
export const FOREIGN_PHIGATE_VARS: ReadonlySet<string> = new Set(['PHIGATE_CACHE']);

/** Every PHIGATE_* variable must be known: an unknown one is most likely a typo of a known one. */
export const RESERVED_PREFIX = 'PHIGATE_';

type Parsed<S> = S extends { kind: 'integer' }
  ? number
  : S extends { kind: 'boolean' }
    ? boolean
    : S extends { kind: 'brokers' }
      ? readonly string[]
      : S extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : string;

type Present<S> = S extends { default: unknown } | { required: true } ? Parsed<S> : Parsed<S> | undefined;

/** The parsed environment, one typed value per variable, defaults applied. */
export type EnvValues = { readonly [K in VarName]: Present<(typeof ENV_VARS)[K]> };

/** The validated runtime configuration. Deeply frozen. */
export interface Config {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly ssl:
      | false
      | {
          readonly ca?: string;
          readonly cert?: string;
          readonly key?: string;
          readonly rejectUnauthorized: boolean;
        };
    readonly sasl: null | {
      readonly mechanism: SaslMechanism;
      readonly username: string;
      readonly password: string;
    };
    readonly connectionTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
  readonly registry: {
    /** Without a trailing slash: append paths like `/schemas/ids/1`. */
    readonly url: string;
    readonly auth: null | { readonly username: string; readonly password: string };
    /** Set instead of `auth` (never both). */
    readonly bearerToken?: string;
    /** PEM CA bundle for an https URL, replacing the system CAs. */
    readonly ca?: string;
    readonly timeoutMs: number;
  };
  readonly topics: {
    readonly input: string;
    readonly audit: string;
    readonly dlq: string;
    readonly inventory: string;
    readonly partitions: number;
    readonly replicationFactor: number;
    readonly create: boolean;
  };
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly engine: KafkaEngineName;
  readonly transactionalIdPrefix: string;
  /** Absent: the host name. */
  readonly instanceId?: string;
  readonly policy: { readonly file: string; readonly pollMs: number };
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
  readonly batch: {
    readonly maxRecords: number;
    readonly maxMs: number;
    /** Least time between transaction starts (librdkafka engine). */
    readonly commitIntervalMs: number;
  };
  readonly partitionsConsumedConcurrently: number;
  readonly compression: OutputCompression;
  readonly shutdownTimeoutMs: number;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
}
