/**
 * The kafkajs pass-through: the client library's ceiling for phi-gate's job. The same consumer
 * group settings, one transactional producer per input partition, chunks of BATCH_MAX_RECORDS, each
 * record copied unchanged to three topics, output sent in the same byte-bounded slices as phi-gate,
 * offsets committed in the transaction — but no decoding and no policy. Run as a child process by
 * bench/pipeline.bench.ts (configured by environment variables, prints "joined" once in the group).
 */
import { Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import type { OutputCompression } from '../src/config/index.ts';
import { fixAbortedFiltering } from '../src/kafka/kafkajs/aborted.ts';
import { compressionType, registerCodecs } from '../src/kafka/kafkajs/compression.ts';
import { MAX_REQUEST_BYTES, PRODUCER_OPTIONS, slices } from '../src/kafka/kafkajs/transactions.ts';
import { tuneKafkajs } from '../src/kafka/kafkajs/tuning.ts';
import type { OutMessage, TopicMessages } from '../src/pipeline/records.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const input = env('BENCH_INPUT');
const outputs = env('BENCH_OUTPUTS').split(',');
const groupId = env('BENCH_GROUP');
const maxRecords = Number(env('BENCH_BATCH_MAX_RECORDS'));
const maxMs = Number(env('BENCH_BATCH_MAX_MS'));
const concurrency = Number(env('BENCH_PARTITIONS_CONCURRENCY'));
const compression = compressionType(env('BENCH_COMPRESSION') as OutputCompression);
registerCodecs();
tuneKafkajs(); // as phi-gate: the same client, patched the same way
fixAbortedFiltering();

const kafka = new Kafka({
  clientId: 'bench-passthrough',
  brokers: env('KAFKA_BROKERS').split(','),
  logLevel: logLevel.ERROR,
});
const producers = new Map<number, Promise<Producer>>();

function producer(partition: number): Promise<Producer> {
  let p = producers.get(partition);
  if (!p) {
    const created = kafka.producer({
      ...PRODUCER_OPTIONS, // as phi-gate's transactional producers
      transactionalId: `${groupId}-${input}-${partition}`,
    });
    p = created.connect().then(() => created);
    producers.set(partition, p);
  }
  return p;
}

const consumer = kafka.consumer({
  groupId,
  readUncommitted: false,
  maxWaitTimeInMs: maxMs,
  allowAutoTopicCreation: false,
});
consumer.on(consumer.events.GROUP_JOIN, () => console.log('joined'));
await consumer.connect();
await consumer.subscribe({ topics: [input], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: concurrency,
  eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
    const p = await producer(batch.partition);
    for (let i = 0; i < batch.messages.length; i += maxRecords) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + maxRecords);
      const copies = (m: KafkaMessage): OutMessage => ({ key: m.key, value: m.value as Buffer });
      const out: TopicMessages[] = outputs.map((topic) => ({ topic, messages: chunk.map(copies) }));
      const last = chunk[chunk.length - 1] as KafkaMessage;
      const tx = await p.transaction();
      try {
        for (const slice of slices(out, MAX_REQUEST_BYTES))
          await tx.sendBatch({ topicMessages: slice, acks: -1, compression });
        await tx.sendOffsets({
          consumerGroupId: groupId,
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }],
            },
          ],
        });
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      resolveOffset(last.offset);
      await heartbeat();
    }
  },
});

const stop = async () => {
  await consumer.disconnect();
  await Promise.all([...producers.values()].map((p) => p.then((x) => x.disconnect()).catch(() => undefined)));
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
