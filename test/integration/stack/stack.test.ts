/**
 * Proves the local stack: the Segment-spec example schema registers in the real registry, Avro
 * records travel through the real broker and decode again, and a kafkajs transaction is visible to
 * read_committed consumers only once committed.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { consumeAll } from '../../helpers/consume.ts';
import { kafka, registry, requireStack, TestTopics } from '../../helpers/stack.ts';

const schemaUrl = new URL('../../../schemas/segment-event.avsc', import.meta.url);

describe('local stack', () => {
  const topics = new TestTopics();
  before(requireStack);
  after(() => topics.cleanup());

  test('Segment-spec Avro records round-trip through the registry and the broker', async () => {
    const topic = await topics.create('stack-avro', { partitions: 2 });
    const reg = registry();
    const schema = await readFile(schemaUrl, 'utf8');
    const { id } = await reg.register({ type: SchemaType.AVRO, schema }, { subject: `${topic}-value` });
    assert.ok(Number.isInteger(id) && id > 0, 'the registry assigns a schema id');

    const events = [
      {
        messageId: 'm-1',
        type: 'track',
        event: 'Provider Search',
        userId: 'u-ada',
        timestamp: 1_790_000_000_000,
      },
      { messageId: 'm-2', type: 'page', name: 'Home', anonymousId: 'a-1', timestamp: 1_790_000_000_500 },
    ];
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: await Promise.all(
        events.map(async (e) => ({ key: e.messageId, value: await reg.encode(id, e) })),
      ),
    });
    await producer.disconnect();

    const received = await consumeAll(topic, { count: 2 });
    assert.equal(received.length, 2);
    const value = received[0]?.message.value;
    assert.ok(value);
    assert.equal(value[0], 0, 'Confluent wire format: magic byte 0');
    assert.equal(value.readInt32BE(1), id, 'Confluent wire format: 4-byte schema id');
    const decoded = await Promise.all(received.map((r) => reg.decode(r.message.value as Buffer)));
    const byId = new Map(decoded.map((d) => [d.messageId, d]));
    assert.equal(byId.get('m-1').event, 'Provider Search');
    assert.equal(byId.get('m-1').userId, 'u-ada');
    assert.equal(byId.get('m-2').type, 'page');
    assert.equal(byId.get('m-2').properties, null, 'absent optional fields decode as their default');
  });

  test('a transaction is seen by read_committed consumers only when committed', async () => {
    const topic = await topics.create('stack-tx');
    const producer = kafka().producer({
      transactionalId: `${topic}-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: 'k', value: 'committed-1' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'k', value: 'aborted' }] });
    await aborted.abort();
    const second = await producer.transaction();
    await second.send({ topic, messages: [{ key: 'k', value: 'committed-2' }] });
    await second.commit();
    await producer.disconnect();

    const readCommitted = await consumeAll(topic, { count: 2, settleMs: 500 });
    assert.deepEqual(
      readCommitted.map((r) => r.message.value?.toString()),
      ['committed-1', 'committed-2'],
    );
    const readUncommitted = await consumeAll(topic, { count: 3, readUncommitted: true, settleMs: 300 });
    assert.deepEqual(
      readUncommitted.map((r) => r.message.value?.toString()),
      ['committed-1', 'aborted', 'committed-2'],
      'read_uncommitted sees the aborted record: the broker really ran a transaction',
    );
  });
});
