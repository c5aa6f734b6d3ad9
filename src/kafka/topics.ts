/**
 * The topics phi-gate writes: one per destination, the compacted audit and inventory topics and the
 * DLQ. Created when missing (unless disabled), then described so that records without a key can be
 * partitioned by their input partition. The audit and inventory topics are always checked for
 * `cleanup.policy=compact`.
 */
import type { Admin } from 'kafkajs';
import { PhiGateError } from '../errors.ts';

export interface TopicSpec {
  readonly topic: string;
  readonly config?: Readonly<Record<string, string>>;
}

export const AUDIT_TOPIC_CONFIG = Object.freeze({
  'cleanup.policy': 'compact',
  // keep every entry readable for a day before compaction may collapse replays of the same fact
  'min.compaction.lag.ms': String(24 * 3600 * 1000),
});

/** One entry per (schema id, field path): only the latest decision of each matters. */
export const INVENTORY_TOPIC_CONFIG = Object.freeze({ 'cleanup.policy': 'compact' });

/**
 * Creates the missing topics of `specs` (unless `create` is false) and returns every spec topic's
 * partition count. The `input` topic is never created: it must exist, and is checked first, so a
 * wrong input topic creates nothing.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  options: { input: string; create: boolean; partitions: number; replicationFactor: number },
): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  if (!existing.has(options.input)) {
    throw new PhiGateError('PHIGATE_ERR_CONFIG', `input topic ${options.input} does not exist`);
  }
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    if (!options.create) {
      throw new PhiGateError(
        'PHIGATE_ERR_CONFIG',
        `topics missing and PHIGATE_CREATE_TOPICS is false: ${missing.map((s) => s.topic).join(', ')}`,
      );
    }
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: options.partitions,
        replicationFactor: options.replicationFactor,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
}

/**
 * Fails start-up when an existing audit (or inventory) topic is not compacted: retention would delete
 * history (or the entries of a schema seen long ago).
 */
export async function checkAuditTopic(admin: Admin, topic: string, role = 'audit'): Promise<void> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }],
  });
  const policy =
    resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? '';
  if (!policy.split(',').includes('compact')) {
    throw new PhiGateError(
      'PHIGATE_ERR_CONFIG',
      `${role} topic ${topic} has cleanup.policy=${policy}; it must include compact`,
    );
  }
}

/**
 * The most a gzip (deflate) stream inflates: a 258-byte match costs about 2 bits, so ~1032:1.
 * lz4 stays below 256:1; zstd is bounded by librdkafka's receive.message.max.bytes.
 */
export const GZIP_MAX_RATIO = 1032;

/**
 * librdkafka inflates a gzip or lz4 input batch whole, with no bound of its own; the largest batch
 * the input topic accepts is its `max.message.bytes`. Returns a warning when that batch, inflated,
 * could exceed half the memory this process may use (its cgroup limit, or the machine's memory). A producer that can write to the input topic could otherwise end the
 * process with one batch — nothing leaks (the process dies before anything is written), but the
 * stream stops until the batch is removed. The kafkajs engine bounds every codec itself.
 */
export function inflationWarning(
  input: string,
  maxMessageBytes: number,
  memoryLimit: number | undefined,
): string | undefined {
  if (!memoryLimit || !Number.isFinite(maxMessageBytes) || maxMessageBytes <= 0) return undefined;
  const inflated = maxMessageBytes * GZIP_MAX_RATIO;
  // half the limit: the process already holds its heap, the client's queues and a batch in hand
  if (inflated <= memoryLimit / 2) return undefined;
  const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;
  const safe = Math.floor(memoryLimit / 2 / GZIP_MAX_RATIO);
  return (
    `input topic ${input} accepts record batches of up to ${maxMessageBytes} bytes (max.message.bytes); ` +
    `a gzip batch that size can inflate to ~${mib(inflated)} in librdkafka, more than half of the ` +
    `memory this process may use (${mib(memoryLimit)}): lower the topic's max.message.bytes to ${safe} or ` +
    'less, raise the memory limit, or run PHIGATE_KAFKA_ENGINE=kafkajs, which bounds every codec'
  );
}

/** The input topic's effective `max.message.bytes` (its own, or the broker's default). */
export async function maxMessageBytes(admin: Admin, topic: string): Promise<number | undefined> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['max.message.bytes'] }],
  });
  const value = resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
  return value === undefined ? undefined : Number(value);
}
