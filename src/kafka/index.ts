/**
 * The Kafka room's front door: `openKafka` connects the admin client and builds the engine the
 * configuration names (PHIGATE_KAFKA_ENGINE). Nothing outside src/kafka/ imports a Kafka client.
 *
 * The admin side (creating and describing topics, the audit and inventory topics' cleanup policy) is kafkajs's
 * admin client for both engines: it is used only at start and on reload, and the native client's
 * admin API has no DescribeConfigs, which the audit-topic check needs.
 */
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EngineHooks, KafkaEngine } from './engine.ts';
import { fixAbortedFiltering } from './kafkajs/aborted.ts';
import { compressionType, registerCodecs } from './kafkajs/compression.ts';
import { kafkajsConfig } from './kafkajs/config.ts';
import { KafkajsEngine } from './kafkajs/consumer.ts';
import { instrumentAdmin, instrumentProducer } from './kafkajs/instrument.ts';
import { PartitionTransactions } from './kafkajs/transactions.ts';
import { tuneKafkajs } from './kafkajs/tuning.ts';
import { verifyConnection } from './kafkajs/verify.ts';
import { AUDIT_TOPIC_CONFIG, checkAuditTopic, ensureTopics, INVENTORY_TOPIC_CONFIG } from './topics.ts';

export type { EngineHooks, EngineName, KafkaEngine, Step } from './engine.ts';
export { ENGINES } from './engine.ts';

export interface KafkaDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly hooks: EngineHooks;
}

export interface OutputTopics {
  readonly audit: string;
  readonly dlq: string;
  /** The compacted data-inventory topic (created and checked like the audit topic). */
  readonly inventory?: string;
  readonly destinations: readonly string[];
}

export interface KafkaRoom {
  readonly engine: KafkaEngine;
  /**
   * Checks the input topic exists, creates missing output topics (unless disabled) and checks the
   * audit (and inventory) topic is compacted. Returns the partition count of each output topic (records whose key a
   * destination drops are placed by their input partition).
   */
  prepareTopics(topics: OutputTopics): Promise<Map<string, number>>;
  /** Closes the admin client (close the engine first). */
  close(): Promise<void>;
}

export async function openKafka(config: Config, deps: KafkaDeps): Promise<KafkaRoom> {
  registerCodecs(); // kafkajs reads input batches in any Kafka codec, each bounded
  tuneKafkajs();
  fixAbortedFiltering(); // kafkajs's read_committed hands out records of some aborted transactions
  const clientConfig = kafkajsConfig(config, deps.logger);
  // a refused password or an untrusted broker certificate ends start-up at once (kafkajs/verify.ts)
  if (config.kafka.ssl !== false || config.kafka.sasl !== null) await verifyConnection(clientConfig);
  const kafka = new Kafka(clientConfig);
  const admin = kafka.admin();
  instrumentAdmin(admin, deps.metrics, 'admin');
  await admin.connect();
  let engine: KafkaEngine;
  try {
    engine = await createEngine(config, deps, kafka);
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
  return {
    engine,
    async prepareTopics(topics: OutputTopics): Promise<Map<string, number>> {
      const { topics: t } = config;
      const partitions = await ensureTopics(
        admin,
        [
          { topic: topics.audit, config: AUDIT_TOPIC_CONFIG },
          { topic: topics.dlq },
          ...(topics.inventory === undefined
            ? []
            : [{ topic: topics.inventory, config: INVENTORY_TOPIC_CONFIG }]),
          ...topics.destinations.map((topic) => ({ topic })),
        ],
        {
          input: t.input,
          create: t.create,
          partitions: t.partitions,
          replicationFactor: t.replicationFactor,
        },
      );
      await checkAuditTopic(admin, topics.audit);
      if (topics.inventory !== undefined) await checkAuditTopic(admin, topics.inventory, 'inventory');
      return partitions;
    },
    close: () => admin.disconnect(),
  };
}

async function createEngine(config: Config, deps: KafkaDeps, kafka: Kafka): Promise<KafkaEngine> {
  if (config.engine === 'kafkajs') {
    const transactions = new PartitionTransactions({
      kafka,
      transactionalIdPrefix: config.transactionalIdPrefix,
      groupId: config.groupId,
      metrics: deps.metrics,
      compression: compressionType(config.compression),
      instrument: (producer, client) => instrumentProducer(producer, deps.metrics, client),
    });
    return new KafkajsEngine({
      kafka,
      inputTopic: config.topics.input,
      groupId: config.groupId,
      sessionTimeoutMs: config.sessionTimeoutMs,
      batch: config.batch,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      retry: config.retry,
      transactions,
      metrics: deps.metrics,
      logger: deps.logger,
      hooks: deps.hooks,
    });
  }
  // loaded only when used: a platform without the native build can still run the kafkajs engine
  const { RdkafkaEngine } = await import('./rdkafka/engine.ts');
  return new RdkafkaEngine({ config, metrics: deps.metrics, logger: deps.logger, hooks: deps.hooks });
}
