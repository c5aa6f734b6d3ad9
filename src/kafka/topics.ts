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
