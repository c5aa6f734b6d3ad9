/**
 * The topics phi-gate writes: one per destination, the compacted audit and inventory topics and the
 * DLQ. Created when missing (unless disabled), then described so that records without a key can be
 * partitioned by their input partition. The audit and inventory topics are always checked for
 * `cleanup.policy=compact`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';
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

const LEADERS_TIMEOUT_MS = 30_000;
/** What a broker answers about a topic that exists but has not reached its metadata, or has no leader yet. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Creates `topics` and resolves once every partition of each has a leader. kafkajs's own wait
 * (`waitForLeaders`) gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker answers until a new topic
 * has reached its metadata cache (KRaft propagates it through the metadata log): the bench's creation
 * failed there once, and phi-gate's start and reload used the same call. So awaitLeaders waits instead.
 */
export async function createTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  await awaitLeaders(
    admin,
    topics.map((t) => t.topic),
  );
}

/**
 * Resolves once every partition of `topics` has a leader in the brokers' metadata; throws
 * PHIGATE_ERR_BROKER (retryable) after `timeoutMs`, and any other error of the metadata call at once.
 */
export async function awaitLeaders(
  admin: Admin,
  topics: readonly string[],
  timeoutMs = LEADERS_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    let pending: string;
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = topics.filter((topic) => {
        const partitions = found.find((t) => t.name === topic)?.partitions ?? [];
        return partitions.length === 0 || partitions.some((p) => p.leader < 0);
      });
      if (leaderless.length === 0) return;
      pending = `no leader yet for ${leaderless.join(', ')}`;
    } catch (err) {
      if (!NOT_YET.has((err as { type?: string }).type ?? '')) throw err;
      pending = (err as Error).message;
    }
    if (Date.now() + delay > deadline) {
      throw new PhiGateError(
        'PHIGATE_ERR_BROKER',
        `topics ${topics.join(', ')} were created but not every partition had a leader after ${timeoutMs} ms (${pending})`,
      );
    }
    await sleep(delay);
  }
}

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
    await createTopics(
      admin,
      missing.map((s) => ({
        topic: s.topic,
        numPartitions: options.partitions,
        replicationFactor: options.replicationFactor,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    );
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
