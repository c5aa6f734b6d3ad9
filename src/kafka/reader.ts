/**
 * A read-only reader of one topic, for `phi-gate diff`: it assigns partitions itself (no consumer
 * group is joined, no offset is ever committed, no topic is created) and reads up to `max` records
 * that exist when it starts — from each partition's start (`earliest`) or its most recent records
 * (`latest`), `read_committed`. It writes nothing anywhere.
 *
 * Built on librdkafka's low-level consumer with `assign()`: librdkafka wants a `group.id` even then,
 * but without `subscribe()` and with auto-commit off it never joins that group or commits to it.
 */
import type { KafkaConsumer, Message } from '@confluentinc/kafka-javascript';
import type { Config } from '../config/index.ts';
import type { InputRecord } from '../pipeline/records.ts';
import { call, toRecord } from './rdkafka/client.ts';
import { connectionConfig } from './rdkafka/config.ts';

export type ReadFrom = 'earliest' | 'latest';

export interface ReadOptions {
  readonly topic: string;
  readonly max: number;
  readonly from: ReadFrom;
  /** Records per consume call. */
  readonly batch?: number;
  /** Gives up waiting for more when nothing arrives for this long (ms). */
  readonly idleMs?: number;
}

export interface ReadProgress {
  readonly read: number;
  /** How many records the read will cover at most (what exists, bounded by `max`). */
  readonly expected: number;
  readonly partitions: number;
}

const TIMEOUT_MS = 10_000;

/**
 * Yields the records in consume order (per partition in offset order) until `max` are read or every
 * partition reached the end it had at the start. `progress()` says where it is.
 */
export class TopicReader {
  readonly #consumer: KafkaConsumer;
  #connected = false;
  #progress: ReadProgress = { read: 0, expected: 0, partitions: 0 };

  private constructor(consumer: KafkaConsumer) {
    this.#consumer = consumer;
  }

  /** `settings`: the Kafka connection of the runtime configuration (loadKafkaConfig) and a log level. */
  static async open(settings: Pick<Config, 'kafka' | 'logLevel'>): Promise<TopicReader> {
    const { default: rdkafka } = await import('@confluentinc/kafka-javascript');
    // connectionConfig reads only the connection settings and the log level
    const connection = connectionConfig(settings as Config, `${settings.kafka.clientId}-diff`);
    const consumer = new rdkafka.KafkaConsumer(
      {
        ...connection,
        event_cb: false,
        'group.id': `${settings.kafka.clientId}-diff-never-joined`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'allow.auto.create.topics': false,
        'enable.partition.eof': false,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    const reader = new TopicReader(consumer);
    await call<unknown>((cb) => consumer.connect({ timeout: TIMEOUT_MS }, cb));
    reader.#connected = true;
    return reader;
  }

  progress(): ReadProgress {
    return this.#progress;
  }

  async *read(options: ReadOptions): AsyncGenerator<InputRecord[]> {
    const consumer = this.#consumer;
    const metadata = await call<{ topics: { name: string; partitions: { id: number }[] }[] }>((cb) =>
      consumer.getMetadata({ topic: options.topic, timeout: TIMEOUT_MS }, cb as never),
    );
    const partitions = metadata.topics.find((t) => t.name === options.topic)?.partitions ?? [];
    if (partitions.length === 0)
      throw new Error(`topic ${options.topic} does not exist or has no partitions`);
    const share = Math.ceil(options.max / partitions.length);
    /** partition → [next offset to read, end offset at the start] */
    const ranges = new Map<number, { start: number; end: number }>();
    for (const { id } of partitions) {
      const { lowOffset, highOffset } = await call<{ lowOffset: number; highOffset: number }>((cb) =>
        consumer.queryWatermarkOffsets(options.topic, id, TIMEOUT_MS, cb as never),
      );
      const start = options.from === 'latest' ? Math.max(lowOffset, highOffset - share) : lowOffset;
      if (highOffset > start) ranges.set(id, { start, end: highOffset });
    }
    const existing = [...ranges.values()].reduce((n, r) => n + (r.end - r.start), 0);
    this.#progress = { read: 0, expected: Math.min(existing, options.max), partitions: partitions.length };
    if (ranges.size === 0) return;
    consumer.assign(
      [...ranges].map(([partition, r]) => ({ topic: options.topic, partition, offset: r.start })),
    );
    let read = 0;
    let idleSince = Date.now();
    const idleMs = options.idleMs ?? TIMEOUT_MS;
    while (ranges.size > 0 && read < options.max) {
      const messages = await call<Message[]>((cb) =>
        consumer.consume(Math.min(options.batch ?? 500, options.max - read), cb as never),
      );
      const records: InputRecord[] = [];
      for (const m of messages) {
        const range = ranges.get(m.partition);
        if (range === undefined || m.offset >= range.end) continue; // past the end it had at the start
        records.push(toRecord(m));
        // transaction markers take offsets too: the last record may sit before end - 1
        if (m.offset >= range.end - 1) ranges.delete(m.partition);
      }
      if (records.length > 0) {
        idleSince = Date.now();
        read += records.length;
        this.#progress = { ...this.#progress, read };
        yield records;
        continue;
      }
      for (const [partition, range] of ranges) {
        // a partition whose remaining offsets are all markers or aborted records ends here
        const position = consumer.position([{ topic: options.topic, partition }])[0]?.offset;
        if (typeof position === 'number' && position >= range.end) ranges.delete(partition);
      }
      if (Date.now() - idleSince > idleMs) break;
    }
    consumer.unassign();
  }

  async close(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    await call<unknown>((cb) => this.#consumer.disconnect(cb)).catch(() => undefined);
  }
}
