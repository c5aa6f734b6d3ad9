/**
 * The librdkafka client's consume(n), as phi-gate's build of it converts the messages
 * (deploy/local/kafka-javascript-consume.patch): the values and keys of one call are views of one
 * buffer, and every message must still come out exactly as it was written — tombstones, empty and
 * missing keys, binary bytes, a large value, and messages with headers (converted the client's own
 * way) among the others — each view covering its own bytes and no others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import rdkafka, { type KafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import type { Producer } from 'kafkajs';
import { call } from '../../../src/kafka/rdkafka/client.ts';
import { BROKERS, kafka, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

interface Written {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Record<string, Buffer>;
}

const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));

/** Every kind of message, in an order that puts each kind next to every other. */
function messages(): Written[] {
  const kinds: ((i: number) => Written)[] = [
    (i) => ({ key: Buffer.from(`user-${i}`), value: bytes(300 + (i % 50), i) }),
    () => ({ key: Buffer.from('tombstone'), value: null }),
    (i) => ({ key: null, value: bytes(17, i) }),
    (i) => ({ key: Buffer.alloc(0), value: Buffer.alloc(0), headers: { h: bytes(3, i) } }),
    (i) => ({ key: bytes(40, i + 1), value: bytes(1, i), headers: { a: Buffer.from('x'), b: bytes(9, i) } }),
    (i) => ({ key: Buffer.alloc(0), value: bytes(64, i) }),
    (i) => ({ key: null, value: null, headers: { only: bytes(5, i) } }),
  ];
  const out: Written[] = [];
  for (let i = 0; i < 300; i++) out.push((kinds[(i * 5) % kinds.length] as (i: number) => Written)(i));
  out.splice(150, 0, { key: Buffer.from('large'), value: bytes(900 * 1024, 7) });
  return out;
}

describe("the librdkafka client's consumed messages", () => {
  const topics = new TestTopics();
  let producer: Producer;
  let consumer: KafkaConsumer | undefined;
  before(async () => {
    await requireStack();
    producer = kafka('phi-gate-test-consumed').producer();
    await producer.connect();
  });
  after(async () => {
    await producer.disconnect();
    if (consumer?.isConnected()) await call<unknown>((cb) => consumer?.disconnect(cb));
    await topics.cleanup();
  });

  /** Reads `count` messages of `topic` from its start with consume(1000); counts the calls that returned some. */
  async function readAll(topic: string, count: number): Promise<{ read: Message[]; calls: number }> {
    if (consumer?.isConnected()) await call<unknown>((cb) => consumer?.disconnect(cb));
    consumer = new rdkafka.KafkaConsumer(
      {
        'bootstrap.servers': BROKERS.join(','),
        'group.id': uniqueName('consumed-messages'),
        'enable.auto.commit': false,
        'fetch.max.bytes': 4 * 1024 * 1024,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await call<unknown>((cb) => consumer?.connect({}, cb));
    consumer.subscribe([topic]);
    consumer.setDefaultConsumeTimeout(500);
    const read: Message[] = [];
    const deadline = Date.now() + 30_000;
    let calls = 0;
    while (read.length < count && Date.now() < deadline) {
      const batch = await call<Message[]>((cb) => consumer?.consume(1000, cb));
      if (batch.length > 0) calls += 1;
      read.push(...batch);
    }
    return { read, calls };
  }

  test('come out exactly as written, each value and key a buffer of its own bytes only', async () => {
    const topic = await topics.create('consumed-messages');
    const written = messages();
    for (let at = 0; at < written.length; at += 100) {
      await producer.send({
        topic,
        messages: written
          .slice(at, at + 100)
          .map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
      });
    }

    const { read, calls } = await readAll(topic, written.length);
    assert.equal(read.length, written.length, `read ${read.length} of ${written.length}`);
    assert.ok(calls < written.length / 10, `${calls} consume calls: the messages came in batches`);

    for (const [i, m] of read.entries()) {
      const w = written[i] as Written;
      assert.equal(m.offset, i);
      assert.equal(m.partition, 0);
      assert.equal(m.topic, topic);
      assert.equal(typeof m.timestamp, 'number');
      assert.equal(m.size, w.value?.length ?? 0, `size of ${i}`);
      if (w.value === null) assert.equal(m.value, null, `value of ${i}`);
      else assert.ok(Buffer.isBuffer(m.value) && m.value.equals(w.value), `value of ${i}`);
      if (w.key === null) assert.equal(m.key, null, `key of ${i}`);
      else assert.ok(Buffer.isBuffer(m.key) && m.key.equals(w.key), `key of ${i}`);
      const headers = (m.headers ?? []).map((h) => Object.entries(h)[0] as [string, Buffer]);
      assert.deepEqual(
        headers.map(([name, value]) => [name, Buffer.from(value).toString('hex')]),
        Object.entries(w.headers ?? {}).map(([name, value]) => [name, value.toString('hex')]),
        `headers of ${i}`,
      );
    }

    // phi-gate's build: the values and keys of one call share one backing store (not one each)
    const stores = new Set(
      read.flatMap((m) => (m.headers === undefined && m.value !== null ? [m.value.buffer] : [])),
    );
    assert.ok(stores.size <= calls, `${stores.size} backing stores for ${calls} consume calls`);

    // writing through one message's buffers leaves every other message's bytes as they were
    for (const m of read) {
      m.value?.fill(0xee);
      (m.key as Buffer | null)?.fill(0xdd);
    }
    for (const [i, m] of read.entries()) {
      const w = written[i] as Written;
      assert.equal(m.value?.length ?? null, w.value?.length ?? null);
      assert.ok(m.value === null || m.value.every((b) => b === 0xee), `value of ${i} is its own`);
      assert.ok(m.key === null || (m.key as Buffer).every((b) => b === 0xdd), `key of ${i} is its own`);
    }
  });

  test('a call whose messages are all empty gives empty buffers, not nulls', async () => {
    const topic = await topics.create('consumed-empty');
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, () => ({ key: null, value: Buffer.alloc(0) })),
    });
    const { read } = await readAll(topic, 5);
    assert.equal(read.length, 5);
    for (const m of read) {
      assert.ok(Buffer.isBuffer(m.value) && m.value.length === 0);
      assert.equal(m.key, null);
    }
  });
});
