/**
 * The kafkajs engine's exactly once: a batch's outputs and its input offset commit in ONE Kafka
 * transaction.
 *
 * kafkajs sends no consumer-group metadata with its offset commits (no KIP-447), so zombie fencing
 * uses the older scheme: one transactional id per input partition, `<prefix>-<topic>-<partition>`.
 * Whoever owns a partition now initialises that id, which bumps the producer epoch: a previous owner
 * still holding the partition (a zombie after a long GC pause or a network split) is fenced, and its
 * open transaction is aborted by the coordinator before the new owner's first one begins.
 *
 * A producer whose transaction failed is thrown away and rebuilt on the next attempt: kafkajs's
 * transactional state after an error is not worth trusting.
 */
import type { Kafka, Producer } from 'kafkajs';
import { PhiGateError } from '../../errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { MAX_RECORD_BYTES, type TopicMessages } from '../../pipeline/records.ts';
import { observeTransaction } from '../retry.ts';
import { JavaCompatiblePartitioner } from './partitioner.ts';

export interface TransactionOptions {
  readonly kafka: Kafka;
  readonly transactionalIdPrefix: string;
  readonly groupId: string;
  readonly metrics: Metrics;
  readonly transactionTimeoutMs?: number;
  /** kafkajs codec id of the record batches written (compression.ts); none when absent. */
  readonly compression?: number;
  readonly instrument?: (producer: Producer, client: string) => void;
}

/**
 * kafkajs puts every record of one topic-partition in one request into one record batch and never
 * splits by size, while brokers refuse batches over `message.max.bytes` (1 MiB by default). A
 * transaction's records are therefore sent in slices of at most this many bytes, in order.
 */
export const MAX_REQUEST_BYTES = MAX_RECORD_BYTES + 1024;

/**
 * Retries of the transactional producers' own requests. A transaction that begins while the
 * coordinator is still writing the previous one's markers is told CONCURRENT_TRANSACTIONS and must
 * retry; with the client-wide 300 ms first back-off that cost up to ~350 ms per affected batch (the
 * p99 of end-to-end latency). The Java producer retries these after 20 ms; so does this. More
 * attempts keep the total retry time (about a minute) what it was; the runner's own pause-and-retry
 * takes over after that.
 */
const PRODUCER_RETRY = { initialRetryTime: 20, retries: 12 } as const;

/**
 * Settings every transactional producer shares (the benchmark's pass-through uses them too, so
 * the two are compared on equal terms): the retry above, and record placement computed like the
 * Java client's, only cheaper (partitioner.ts).
 */
export const PRODUCER_OPTIONS = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: PRODUCER_RETRY,
  createPartitioner: JavaCompatiblePartitioner,
} as const;

const FENCED = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

export class PartitionTransactions {
  readonly #options: TransactionOptions;
  readonly #producers = new Map<string, Promise<Producer>>();

  constructor(options: TransactionOptions) {
    this.#options = options;
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.#options.transactionalIdPrefix}-${topic}-${partition}`;
  }

  /**
   * Makes sure the partition's producer is initialised — fencing any previous owner — and returns it.
   * Call before reading the committed offset of a newly assigned partition.
   */
  producer(topic: string, partition: number): Promise<Producer> {
    const id = this.transactionalId(topic, partition);
    let producer = this.#producers.get(id);
    if (!producer) {
      producer = this.#connect(id).catch((err) => {
        this.#producers.delete(id);
        throw classify(err);
      });
      this.#producers.set(id, producer);
    }
    return producer;
  }

  /** Sends every output of a batch and commits it together with `nextOffset` of the input partition. */
  async commit(
    topic: string,
    partition: number,
    outputs: readonly TopicMessages[],
    nextOffset: string,
  ): Promise<void> {
    const producer = await this.producer(topic, partition);
    const started = process.hrtime.bigint();
    let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
    try {
      transaction = await producer.transaction();
      for (const slice of slices(outputs, MAX_REQUEST_BYTES))
        await transaction.sendBatch({
          topicMessages: slice,
          acks: -1,
          compression: this.#options.compression,
        });
      await transaction.sendOffsets({
        consumerGroupId: this.#options.groupId,
        topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
      });
      await transaction.commit();
      observeTransaction(this.#options.metrics, 'committed', started);
    } catch (err) {
      if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
      observeTransaction(this.#options.metrics, 'aborted', started);
      await this.#discard(this.transactionalId(topic, partition));
      throw classify(err);
    }
  }

  /** Disconnects the producers of partitions this member no longer owns. */
  async release(keep: ReadonlySet<string>): Promise<void> {
    const doomed = [...this.#producers.keys()].filter((id) => !keep.has(id));
    await Promise.all(doomed.map((id) => this.#discard(id)));
  }

  async close(): Promise<void> {
    await this.release(new Set());
  }

  async #connect(transactionalId: string): Promise<Producer> {
    const producer = this.#options.kafka.producer({
      ...PRODUCER_OPTIONS,
      transactionalId,
      transactionTimeout: this.#options.transactionTimeoutMs ?? 60_000,
    });
    this.#options.instrument?.(producer, 'producer');
    await producer.connect();
    try {
      await fence(producer);
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    return producer;
  }

  async #discard(id: string): Promise<void> {
    const producer = this.#producers.get(id);
    this.#producers.delete(id);
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }
}

/**
 * Initialises the producer's transactional id now: the coordinator bumps its epoch, which fences a
 * previous owner, and ends the transaction that owner left open (aborts it, or finishes the commit it
 * had begun) before answering.
 *
 * kafkajs's `connect()` does not do this: it asks for an idempotent producer id, without the
 * transactional id, and initialises the transactional id only in the first `transaction()`. Without
 * this, the committed offset read right after `connect()` could be read before the fence — while the
 * previous owner's transaction was still open (its offsets pending for up to the transaction timeout),
 * or still in flight and about to commit records that would then be processed again.
 *
 * A transaction begun and aborted with nothing in it sends no request of its own (kafkajs ends one
 * with nothing added locally).
 */
async function fence(producer: Producer): Promise<void> {
  const empty = await producer.transaction();
  await empty.abort();
}

/** Splits outputs into consecutive slices of at most `limit` bytes (estimated), keeping order per topic. */
export function* slices(outputs: readonly TopicMessages[], limit: number): Generator<TopicMessages[]> {
  let slice: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of outputs) {
    let current: TopicMessages['messages'] = [];
    for (const m of messages) {
      const size = recordSize(m);
      if (bytes + size > limit && bytes > 0) {
        if (current.length > 0) slice.push({ topic, messages: current });
        yield slice;
        slice = [];
        current = [];
        bytes = 0;
      }
      current.push(m);
      bytes += size;
    }
    if (current.length > 0) slice.push({ topic, messages: current });
  }
  if (slice.length > 0) yield slice;
}

/** Bytes a record takes in a record batch, roughly: key, value, header names and values, framing. */
export function recordSize(m: TopicMessages['messages'][number]): number {
  let size = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  if (m.headers)
    for (const [name, v] of Object.entries(m.headers)) size += name.length + (v?.length ?? 0) + 8;
  return size;
}

/**
 * Maps kafkajs errors onto the catalogue: a fenced per-partition producer means the partition moved
 * (abandon the chunk); any other kafkajs error is a broker or transaction failure (pause and retry).
 * Anything else — a TypeError, a bug — is returned as it is, and the retry loop treats it as fatal.
 */
export function classify(err: unknown): unknown {
  if (err instanceof PhiGateError) return err;
  const type = (err as { type?: string }).type;
  const name = (err as { name?: string }).name ?? '';
  if (isHalfConnected(err)) {
    return new PhiGateError(
      'PHIGATE_ERR_BROKER',
      'kafkajs sent a request to a broker whose connection never finished its handshake (Broker not connected)',
      { cause: err },
    );
  }
  if (!name.startsWith('KafkaJS')) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (type !== undefined && FENCED.has(type)) {
    return new PhiGateError(
      'PHIGATE_ERR_PARTITION_MOVED',
      `producer fenced (${type}): another member owns this partition now`,
      { cause: err },
    );
  }
  return new PhiGateError(
    'PHIGATE_ERR_TRANSACTION',
    `transaction failed: ${name}${type ? ` ${type}` : ''}: ${message}`,
    {
      cause: err,
    },
  );
}

/**
 * kafkajs's one outage that is not a KafkaJS error: a request to a broker whose connection never
 * finished its handshake (its ApiVersions request timed out, the broker frozen or overloaded) throws
 * a plain `Error('Broker not connected')` (kafkajs/src/broker/index.js, `notInitializedLookup`).
 * Fatal as an unknown error, it ended the instance during a broker freeze.
 */
function isHalfConnected(err: unknown): boolean {
  return err instanceof Error && err.name === 'Error' && err.message === 'Broker not connected';
}
