/**
 * read_committed on the kafkajs client against a real broker: two transactional producers interleave
 * on one partition and are aborted in the opposite order to how they began — what a zombie's
 * transactions look like when their partitions' new owner fences them one by one. kafkajs as released
 * hands out one of the aborted records; with phi-gate's fix (src/kafka/kafkajs/aborted.ts, applied by
 * the test helpers too) only the committed record arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixAbortedFiltering, restoreAbortedFiltering } from '../../../src/kafka/kafkajs/aborted.ts';
import { consumeAll } from '../../helpers/consume.ts';
import { kafka, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

describe('kafkajs read_committed with interleaved aborted transactions', () => {
  const topics = new TestTopics();
  before(requireStack);
  after(async () => {
    fixAbortedFiltering();
    await topics.cleanup();
  });

  test('records of both aborted transactions are hidden; kafkajs as released shows one of them', async () => {
    const topic = await topics.create('aborted', { partitions: 1 });
    const client = kafka('phi-gate-test-aborted');
    const transactional = (name: string) =>
      client.producer({ transactionalId: uniqueName(name), idempotent: true, maxInFlightRequests: 1 });
    const a = transactional('txn-a');
    const b = transactional('txn-b');
    const plain = client.producer();
    await Promise.all([a.connect(), b.connect(), plain.connect()]);
    try {
      const ta = await a.transaction();
      await ta.send({ topic, messages: [{ key: 'a', value: 'aborted-first-begun' }] });
      const tb = await b.transaction();
      await tb.send({ topic, messages: [{ key: 'b', value: 'aborted-second-begun' }] });
      await ta.send({ topic, messages: [{ key: 'a', value: 'aborted-first-begun-2' }] });
      await tb.abort(); // B's abort marker comes first: the fetch lists B before A
      await ta.abort();
      await plain.send({ topic, messages: [{ key: 'c', value: 'committed' }] });
    } finally {
      await Promise.all([a.disconnect(), b.disconnect(), plain.disconnect()]);
    }
    const values = async () =>
      (await consumeAll(topic, { count: 4, timeoutMs: 5000 })).map((r) => r.message.value?.toString()).sort();

    restoreAbortedFiltering();
    const released = await values();
    assert.ok(
      released.some((v) => v?.startsWith('aborted-first-begun')),
      `kafkajs as released hides every aborted record here (${released.join(', ')}): the case no longer tests the fix`,
    );

    fixAbortedFiltering();
    assert.deepEqual(await values(), ['committed']);
  });
});
