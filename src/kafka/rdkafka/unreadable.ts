/**
 * Finding the record librdkafka cannot read.
 *
 * When a fetched batch is corrupt or inflates wrongly, librdkafka reports "invalid compressed
 * data" (or "bad message") — through this client without its partition or offset — and fetches the
 * same batch again at every fetch: left alone, the consumer stalls behind it for good. The batch's
 * first unread offset is the position of the partition it sits in, so the culprit is one of the
 * assigned partitions that still have records past their position. A probe — a consumer of its
 * own, assigned one partition at a time, in no group, committing nothing — reads each such
 * partition from its position: the one whose read fails the same way holds the batch.
 *
 * The engine then hands that one offset to the batch step as an unreadable record (dead-lettered
 * with PHIGATE_ERR_BAD_BATCH, committed past in the transaction) and seeks past it. A batch of n
 * records takes n rounds: offsets after a corrupt batch are never skipped unread.
 */
import rdkafka, { type KafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import type { Config } from '../../config/index.ts';
import { PhiGateError } from '../../errors.ts';
import { partitionKey } from './batches.ts';
import { call } from './client.ts';
import { connectionConfig, FETCH_LIMITS } from './config.ts';
import { classify } from './errors.ts';

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** librdkafka's "no offset" (RD_KAFKA_OFFSET_INVALID) and logical offsets are negative. */
const isOffset = (o: number | undefined): o is number => typeof o === 'number' && o >= 0;

/** Reads of one partition before a probe concludes it reads fine (nothing arrived, no error). */
const PROBE_READS = 3;
const PROBE_READ_MS = 1000;
const QUERY_TIMEOUT_MS = 5000;

export class UnreadableFinder {
  readonly #config: Config;
  #probe: KafkaConsumer | undefined;
  /**
   * Per partition, the offset after the last one found unreadable. The client may report the same
   * batch again after the seek past it (errors it queued before), while its position has not moved
   * yet: what was found already is not found twice. Forgotten at a rebalance (`reset`), when the
   * positions go back to the committed offsets.
   */
  readonly #past = new Map<string, number>();

  constructor(config: Config) {
    this.#config = config;
  }

  /**
   * The first offset that cannot be read, among the partitions `consumer` is assigned; undefined
   * when every candidate reads (the failure was elsewhere, or has passed).
   */
  async find(consumer: KafkaConsumer): Promise<TopicPartitionOffset | undefined> {
    for (const candidate of await this.#candidates(consumer)) {
      if (await this.#unreadableAt(candidate)) {
        this.#past.set(partitionKey(candidate.topic, candidate.partition), candidate.offset + 1);
        return candidate;
      }
    }
    return undefined;
  }

  /** The assignment changed: positions start again from the committed offsets. */
  reset(): void {
    this.#past.clear();
  }

  async close(): Promise<void> {
    const probe = this.#probe;
    this.#probe = undefined;
    if (probe?.isConnected()) await call<unknown>((cb) => probe.disconnect(cb)).catch(() => undefined);
  }

  /** Each assigned partition's next offset to read, where records remain past it. */
  async #candidates(consumer: KafkaConsumer): Promise<TopicPartitionOffset[]> {
    const assigned = consumer.assignments();
    if (assigned.length === 0) return [];
    const positions = new Map(
      consumer.position(assigned).map((p) => [partitionKey(p.topic, p.partition), p.offset]),
    );
    const unpositioned = assigned.filter((a) => !isOffset(positions.get(partitionKey(a.topic, a.partition))));
    if (unpositioned.length > 0) {
      // nothing read yet since the assignment: reading starts at the committed offset
      const committed = await call<{ topic: string; partition: number; offset?: number }[]>((cb) =>
        consumer.committed(unpositioned, QUERY_TIMEOUT_MS, cb),
      );
      for (const c of committed)
        if (isOffset(c.offset)) positions.set(partitionKey(c.topic, c.partition), c.offset);
    }
    const out: TopicPartitionOffset[] = [];
    for (const { topic, partition } of assigned) {
      let offset = positions.get(partitionKey(topic, partition));
      const { lowOffset, highOffset } = await call<{ lowOffset: number; highOffset: number }>((cb) =>
        consumer.queryWatermarkOffsets(topic, partition, QUERY_TIMEOUT_MS, cb),
      );
      if (!isOffset(offset)) offset = lowOffset; // no commit yet: auto.offset.reset is earliest
      offset = Math.max(offset, this.#past.get(partitionKey(topic, partition)) ?? 0);
      if (isOffset(offset) && offset < highOffset) out.push({ topic, partition, offset });
    }
    return out;
  }

  /** True when reading `at` fails with the client's bad-batch error. */
  async #unreadableAt(at: TopicPartitionOffset): Promise<boolean> {
    const probe = await this.#connectedProbe();
    probe.assign([{ topic: at.topic, partition: at.partition, offset: at.offset }]);
    try {
      for (let i = 0; i < PROBE_READS; i++) {
        let messages: Message[];
        try {
          messages = await call<Message[]>((cb) => probe.consume(1, cb));
        } catch (err) {
          const error = classify(err);
          if (error instanceof PhiGateError && error.code === 'PHIGATE_ERR_BAD_BATCH') return true;
          throw err;
        }
        if (messages.some((m) => m.partition === at.partition && m.offset >= at.offset)) return false;
      }
      return false;
    } finally {
      probe.unassign();
    }
  }

  async #connectedProbe(): Promise<KafkaConsumer> {
    if (this.#probe?.isConnected()) return this.#probe;
    const config = this.#config;
    const probe = new rdkafka.KafkaConsumer(
      {
        ...connectionConfig(config, `${config.kafka.clientId}-probe`),
        // assign() only: the probe never joins this group, and commits nothing
        'group.id': `${config.groupId}.probe`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 100,
        ...FETCH_LIMITS,
      },
      {},
    );
    probe.setDefaultConsumeTimeout(PROBE_READ_MS);
    await call<unknown>((cb) => probe.connect({}, cb));
    this.#probe = probe;
    return probe;
  }
}
