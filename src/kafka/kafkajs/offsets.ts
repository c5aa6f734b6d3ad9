/**
 * The group's committed offset of a partition, read stable — what the kafkajs engine bases a new
 * owner's first batch on, and a retry after a transaction whose outcome it could not know.
 *
 * Offsets committed inside a transaction are pending at the group coordinator until the transaction's
 * marker reaches it; until then a plain OffsetFetch answers with the offset from before. kafkajs can
 * only send that plain OffsetFetch (v1–v4). Its answer right after a fence can therefore miss the
 * fenced producer's last commit — on brokers before Kafka 4 the coordinator materializes pending
 * offsets asynchronously after the marker is written — and the records of that commit would be
 * processed a second time. KIP-447 added `require_stable` (OffsetFetch v7, Kafka 2.5): the coordinator
 * answers UNSTABLE_OFFSET_COMMIT while the partition has pending offsets, and the Java and librdkafka
 * consumers retry until it has none. This sends that request over kafkajs's own connection to the
 * group coordinator and does the same.
 *
 * OffsetFetch v7 is a flexible version: its request header carries tagged fields (one empty set, sent
 * as the first byte of the body: kafkajs writes header v1) and so does its response header (read first).
 */
import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import { PhiGateError } from '../../errors.ts';

interface Encoder {
  writeInt8(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeUVarInt(v: number): Encoder;
  writeUVarIntString(v: string): Encoder;
}

interface Decoder {
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readUVarInt(): number;
  readUVarIntString(): string | null;
  readTaggedFields(): unknown;
  readUVarIntArray<T>(reader: (d: Decoder) => T): T[] | null;
}

interface ProtocolRequest {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<Encoder> };
  response: { decode(raw: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> };
}

interface Coordinator {
  versions?: Record<number, { minVersion: number; maxVersion: number }>;
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
}

interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(query: { groupId: string }): Promise<Coordinator>;
}

type ProtocolError = Error & { type: string; retriable: boolean };

const require = createRequire(import.meta.url);
const EncoderClass = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;
const DecoderClass = require('kafkajs/src/protocol/decoder.js') as new (raw: Buffer) => Decoder;
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode(code: number): ProtocolError;
};

const OFFSET_FETCH = 9;
const STABLE_VERSION = 7;
const UNSTABLE_OFFSET_COMMIT = 88;
/** How often an unstable partition is asked again (the Java consumer: its retry back-off, 100 ms). */
const UNSTABLE_RETRY_MS = 20;

export interface PartitionOffset {
  readonly partition: number;
  readonly offset: bigint;
  readonly errorCode: number;
}

/** The OffsetFetch v7 request for one topic's partitions, require_stable set. */
export function offsetFetchV7(
  groupId: string,
  topic: string,
  partitions: readonly number[],
): ProtocolRequest {
  return {
    request: {
      apiKey: OFFSET_FETCH,
      apiVersion: STABLE_VERSION,
      apiName: 'OffsetFetch',
      encode: async () => {
        const e = new EncoderClass()
          .writeUVarInt(0) // request header v2: no tagged fields
          .writeUVarIntString(groupId)
          .writeUVarInt(2) // one topic
          .writeUVarIntString(topic)
          .writeUVarInt(partitions.length + 1);
        for (const p of partitions) e.writeInt32(p);
        return e
          .writeUVarInt(0) // the topic's tagged fields
          .writeInt8(1) // require_stable
          .writeUVarInt(0); // the request's tagged fields
      },
    },
    response: {
      decode: async (raw) => decodeOffsetFetchV7(raw),
      parse: async (decoded) => decoded,
    },
  };
}

/** The partitions of an OffsetFetch v7 answer; a top-level error is thrown. */
export function decodeOffsetFetchV7(raw: Buffer): PartitionOffset[] {
  const d = new DecoderClass(raw);
  d.readTaggedFields(); // response header v1
  d.readInt32(); // throttle_time_ms
  const topics =
    d.readUVarIntArray((t) => {
      t.readUVarIntString();
      const partitions =
        t.readUVarIntArray((p) => {
          const partition = p.readInt32();
          const offset = BigInt(p.readInt64().toString());
          p.readInt32(); // committed_leader_epoch
          p.readUVarIntString(); // metadata
          const errorCode = p.readInt16();
          p.readTaggedFields();
          return { partition, offset, errorCode };
        }) ?? [];
      t.readTaggedFields();
      return partitions;
    }) ?? [];
  const errorCode = d.readInt16();
  if (errorCode !== 0) throw createErrorFromCode(errorCode);
  return topics.flat();
}

export class StableOffsets {
  readonly #kafka: Kafka;
  readonly #groupId: string;
  #cluster: Promise<Cluster> | undefined;

  constructor(kafka: Kafka, groupId: string) {
    this.#kafka = kafka;
    this.#groupId = groupId;
  }

  /**
   * The committed offset of `partition` (-1 when the group has none), once no transaction has an offset
   * for it pending; waits at most `timeoutMs` for that. Broker errors are thrown as kafkajs errors.
   */
  async committed(topic: string, partition: number, timeoutMs = 30_000): Promise<bigint> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const coordinator = await (await this.#connect()).findGroupCoordinator({ groupId: this.#groupId });
      const max = coordinator.versions?.[OFFSET_FETCH]?.maxVersion ?? 0;
      if (max < STABLE_VERSION)
        throw new PhiGateError(
          'PHIGATE_ERR_KAFKA_FATAL',
          `the group coordinator does not support OffsetFetch v${STABLE_VERSION} (Kafka 2.5): committed offsets cannot be read stable, and exactly once needs them`,
        );
      const answer = (await coordinator.connectionPool.send(
        offsetFetchV7(this.#groupId, topic, [partition]),
      )) as PartitionOffset[];
      const entry = answer.find((p) => p.partition === partition);
      if (entry === undefined) return -1n;
      if (entry.errorCode === 0) return entry.offset;
      if (entry.errorCode !== UNSTABLE_OFFSET_COMMIT || Date.now() > deadline)
        throw createErrorFromCode(entry.errorCode);
      await new Promise((r) => setTimeout(r, UNSTABLE_RETRY_MS));
    }
  }

  async close(): Promise<void> {
    const cluster = this.#cluster;
    this.#cluster = undefined;
    if (cluster) await cluster.then((c) => c.disconnect()).catch(() => undefined);
  }

  /** A kafkajs cluster of the engine's own client settings (kafkajs builds one per producer, consumer or admin). */
  #connect(): Promise<Cluster> {
    if (this.#cluster === undefined) {
      const create = Object.getOwnPropertySymbols(this.#kafka).find(
        (s) => s.description === 'private:Kafka:createCluster',
      );
      const factory = create && (this.#kafka as unknown as Record<symbol, unknown>)[create];
      if (typeof factory !== 'function') throw new Error('kafkajs has no cluster factory (not 2.2.x?)');
      const cluster = (factory as (o: object) => Cluster)({ allowAutoTopicCreation: false });
      this.#cluster = cluster.connect().then(
        () => cluster,
        (err) => {
          this.#cluster = undefined;
          throw err;
        },
      );
    }
    return this.#cluster;
  }
}
