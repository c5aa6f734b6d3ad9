/**
 * How the librdkafka engine queues a transaction's records: a topic's records without headers in one
 * call of the client's `produceBatch` (phi-gate's build of the client:
 * deploy/local/kafka-javascript-produce.patch), a record with headers on its own. On the real broker,
 * every kind of record must arrive exactly once, exactly as it was given — string, buffer, empty and
 * missing keys, tombstones and empty values, explicit partitions, headers — and in each partition in
 * the order given. A record the client refuses aborts its transaction: nothing of it commits, not
 * even the offsets, and the next transaction goes through. And the binding's own contract: it stops
 * at a full queue and says how far it got.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import rdkafka, { type KafkaConsumer, type Producer } from '@confluentinc/kafka-javascript';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config/index.ts';
import { call } from '../../../src/kafka/rdkafka/client.ts';
import { Transactions } from '../../../src/kafka/rdkafka/producer.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import type { OutMessage } from '../../../src/pipeline/records.ts';
import { consumeAll } from '../../helpers/consume.ts';
import { BROKERS, REGISTRY_URL, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';
import { tempDir } from '../../helpers/temp.ts';

const PARTITIONS = 3;

/** Record `i`, one of every kind in turn; its value names it. */
function record(i: number): OutMessage {
  const value = Buffer.from(`record-${i}`);
  switch (i % 8) {
    case 0:
      return { key: `user-${i}`, value };
    case 1:
      return { key: Buffer.from([0, 255, i % 256, 7]), value };
    case 2:
      return { key: null, value, partition: i % PARTITIONS };
    case 3:
      return { key: `user-${i}`, value, headers: { trace: `t-${i}`, raw: Buffer.from([1, 2, 3]) } };
    case 4:
      return { key: `tombstone-${i}`, value: null };
    case 5:
      return { key: '', value };
    case 6:
      return { key: `empty-${i}`, value: Buffer.alloc(0), partition: (i + 1) % PARTITIONS };
    default:
      return { key: `ünïcødé-${i}`, value };
  }
}

describe("the librdkafka engine's transactions queue records in batches", () => {
  const topics = new TestTopics();
  let consumer: KafkaConsumer;
  let transactions: Transactions;
  let plain: Producer | undefined;

  before(async () => {
    await requireStack();
    const dir = tempDir('produce-batch');
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, 'version: 1\ndestinations: {}\n');
    const config = loadConfig({
      KAFKA_BROKERS: BROKERS.join(','),
      SCHEMA_REGISTRY_URL: REGISTRY_URL,
      PHIGATE_POLICY_FILE: policyFile,
    });
    consumer = new rdkafka.KafkaConsumer(
      { 'bootstrap.servers': BROKERS.join(','), 'group.id': uniqueName('produce-batch') },
      {},
    );
    await call<unknown>((cb) => consumer.connect({}, cb));
    transactions = new Transactions({
      config,
      transactionalId: uniqueName('produce-batch'),
      retry: config.retry,
      metrics: createMetrics(new Registry(), { defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
      onFenced: (error) => assert.fail(`fenced: ${error.message}`),
      stopping: () => false,
    });
    await transactions.connect();
  });

  after(async () => {
    await transactions?.close();
    if (consumer?.isConnected()) await call<unknown>((cb) => consumer.disconnect(cb));
    if (plain?.isConnected()) await call<unknown>((cb) => plain?.disconnect(cb));
    await topics.cleanup();
  });

  test('every kind of record arrives once, as given, in order within its partition', async () => {
    const out = await topics.create('produce-batch-out', { partitions: PARTITIONS });
    const input = await topics.create('produce-batch-in');
    const given = Array.from({ length: 2_000 }, (_, i) => record(i));
    await transactions.run(
      [{ topic: out, messages: given }],
      [{ topic: input, partition: 0, offset: 1 }],
      consumer,
      () => {},
    );

    const received = await consumeAll(out, { count: given.length, settleMs: 500 });
    assert.equal(received.length, given.length);
    const indexOf = (value: Buffer | null, key: Buffer | null): number => {
      const text = value?.toString() ?? '';
      if (text.startsWith('record-')) return Number(text.slice('record-'.length));
      return Number((key?.toString() ?? '').replace(/^(tombstone|empty)-/, ''));
    };
    const last = new Map<number, number>();
    const seen = new Set<number>();
    for (const { partition, message } of received) {
      const i = indexOf(message.value, message.key);
      const m = given[i] as OutMessage;
      assert.ok(!seen.has(i), `record ${i} twice`);
      seen.add(i);
      assert.ok((last.get(partition) ?? -1) < i, `record ${i} out of order in partition ${partition}`);
      last.set(partition, i);
      if (m.partition !== undefined) assert.equal(partition, m.partition, `partition of ${i}`);
      assert.deepEqual(message.value, m.value, `value of ${i}`);
      assert.deepEqual(message.key, m.key === null ? null : Buffer.from(m.key), `key of ${i}`);
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, v]) => [name, Buffer.from(v as Buffer)]),
      );
      const expected = Object.fromEntries(
        Object.entries(m.headers ?? {}).map(([name, v]) => [name, Buffer.from(v)]),
      );
      assert.deepEqual(headers, expected, `headers of ${i}`);
    }
  });

  test('a record the client refuses aborts the transaction: neither its records nor its offsets commit', async () => {
    const out = await topics.create('produce-batch-refused-out');
    const other = await topics.create('produce-batch-refused-other');
    const input = await topics.create('produce-batch-refused-in');
    /** The group's committed offset of the input partition; -1 for none. */
    const committed = async (): Promise<number> => {
      const [c] = await call<{ offset?: number }[]>((cb) =>
        consumer.committed([{ topic: input, partition: 0 }], 10_000, cb),
      );
      return Math.max(-1, c?.offset ?? -1); // librdkafka says none with a negative logical offset
    };
    // the refusal comes after the first topic's record was queued
    await assert.rejects(
      transactions.run(
        [
          { topic: out, messages: [{ key: 'k-0', value: Buffer.from('queued before the refusal') }] },
          // above the producer's message.max.bytes (librdkafka's 1,000,000): refused when queued
          { topic: other, messages: [{ key: 'k-1', value: Buffer.alloc(1_100_000, 7) }] },
        ],
        [{ topic: input, partition: 0, offset: 5 }],
        consumer,
        () => {},
      ),
      /too large|size/i,
    );
    assert.equal(await committed(), -1, 'the aborted transaction committed offsets');

    // the producer is usable at once: the next transaction commits its records and offsets
    await transactions.run(
      [{ topic: out, messages: [{ key: 'k-2', value: Buffer.from('committed') }] }],
      [{ topic: input, partition: 0, offset: 7 }],
      consumer,
      () => {},
    );
    assert.equal(await committed(), 7);
    const received = await consumeAll([out, other], { count: 1, settleMs: 1_000 });
    assert.deepEqual(
      received.map((r) => r.message.value?.toString()),
      ['committed'],
      'only the committed transaction is read',
    );
  });

  test('the batch call stops at a full queue and says how far it got', async () => {
    const topic = await topics.create('produce-batch-full');
    plain = new rdkafka.Producer({
      'bootstrap.servers': BROKERS.join(','),
      'queue.buffering.max.messages': 10,
    });
    await call<unknown>((cb) => plain?.connect({}, cb));
    const binding = (
      plain as unknown as {
        _client: {
          produceBatch(t: string, v: Buffer[], k: string[], p: Int32Array | null): [number, number];
        };
      }
    )._client;
    const values = Array.from({ length: 25 }, (_, i) => Buffer.from(`v-${i}`));
    const keys = values.map((_, i) => `k-${i}`);
    const [queued, code] = binding.produceBatch(topic, values, keys, null);
    assert.deepEqual([queued, code], [10, rdkafka.CODES.ERRORS.ERR__QUEUE_FULL]);
    await call<unknown>((cb) => plain?.flush(10_000, cb));
    const rest = binding.produceBatch(topic, values.slice(10, 20), keys.slice(10, 20), null);
    assert.deepEqual(rest, [10, 0]);
    assert.throws(() => binding.produceBatch(topic, values, keys.slice(1), null), RangeError);
    assert.throws(() => binding.produceBatch(topic, values, keys, new Int32Array(3)), RangeError);
  });
});
