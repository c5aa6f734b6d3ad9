/**
 * StableOffsets against a real broker: an offset committed inside a transaction that is still open is
 * pending at the group coordinator. kafkajs's own read (OffsetFetch v1–v4) answers with the offset from
 * before it; the stable read (OffsetFetch v7, require_stable) waits until the transaction ends and then
 * answers with what it decided — the new offset when it committed, the old one when it aborted.
 *
 * And the engine's order, fence first, read second: a partition's new producer (PartitionTransactions)
 * is returned only once its transactional id is initialised, which ends the previous owner's open
 * transaction — so the stable read that follows answers at once, and the previous owner cannot commit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { StableOffsets } from '../../../src/kafka/kafkajs/offsets.ts';
import { PartitionTransactions } from '../../../src/kafka/kafkajs/transactions.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { kafka, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

describe('committed offsets read stable (KIP-447 require_stable) on the kafkajs client', () => {
  const topics = new TestTopics();
  let client: Kafka;
  let producer: Producer;
  before(async () => {
    await requireStack();
    client = kafka('phi-gate-test-stable');
    producer = client.producer({
      transactionalId: uniqueName('stable'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
  });
  after(async () => {
    await producer.disconnect();
    await topics.cleanup();
  });

  /** Opens a transaction of `owner` that commits `offset` of the topic's partition 0 for `groupId`. */
  async function pendingOffset(topic: string, groupId: string, offset: number, owner = producer) {
    const transaction = await owner.transaction();
    await transaction.send({ topic, messages: [{ value: 'x' }] });
    await transaction.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset: String(offset) }] }],
    });
    return transaction;
  }

  async function plainRead(topic: string, groupId: string): Promise<string | undefined> {
    const admin = client.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets[0]?.partitions.find((p) => p.partition === 0)?.offset;
    } finally {
      await admin.disconnect();
    }
  }

  /** Runs `body` on a fresh one-partition topic and group, with a StableOffsets of that group. */
  async function onFreshGroup(
    prefix: string,
    body: (topic: string, groupId: string, offsets: StableOffsets) => Promise<void>,
  ): Promise<void> {
    const topic = await topics.create(prefix, { partitions: 1 });
    const groupId = uniqueName(`${prefix}-group`);
    const offsets = new StableOffsets(client, groupId);
    try {
      await body(topic, groupId, offsets);
    } finally {
      await offsets.close();
    }
  }

  test('a pending offset: the plain read answers the old one, the stable read waits for the commit', () =>
    onFreshGroup('stable', async (topic, groupId, offsets) => {
      assert.equal(await offsets.committed(topic, 0), -1n, 'nothing committed yet');
      const transaction = await pendingOffset(topic, groupId, 5);
      assert.equal(await plainRead(topic, groupId), '-1', "kafkajs's read does not see the pending offset");
      let answered: bigint | undefined;
      const stable = offsets.committed(topic, 0, 20_000).then((o) => {
        answered = o;
        return o;
      });
      await sleep(500);
      assert.equal(answered, undefined, 'the stable read waits while the offset is pending');
      await transaction.commit();
      assert.equal(await stable, 5n);
    }));

  test('an aborted transaction leaves the offset it had pending uncommitted; a read that waits too long fails', () =>
    onFreshGroup('stable-abort', async (topic, groupId, offsets) => {
      await (await pendingOffset(topic, groupId, 3)).commit();
      const transaction = await pendingOffset(topic, groupId, 9);
      await assert.rejects(offsets.committed(topic, 0, 300), (err: Error & { type?: string }) => {
        assert.equal(err.type, 'UNSTABLE_OFFSET_COMMIT');
        assert.match(err.name, /^KafkaJS/, 'a kafkajs error: the engine pauses and retries');
        return true;
      });
      const stable = offsets.committed(topic, 0, 20_000);
      await transaction.abort();
      assert.equal(await stable, 3n);
    }));

  test("a partition's new producer fences the previous owner's open transaction before it is returned", () =>
    onFreshGroup('stable-fence', async (topic, groupId, offsets) => {
      const transactions = new PartitionTransactions({
        kafka: client,
        transactionalIdPrefix: uniqueName('fence'),
        groupId,
        metrics: createMetrics(new Registry(), { defaultMetrics: false }),
      });
      const previous = client.producer({
        transactionalId: transactions.transactionalId(topic, 0),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await previous.connect();
      try {
        await (await pendingOffset(topic, groupId, 4, previous)).commit();
        const open = await pendingOffset(topic, groupId, 8, previous);
        await transactions.producer(topic, 0);
        // the open transaction was aborted by the fence, not left pending until its timeout (60 s):
        // the read's budget is a slow machine's margin, far below that
        assert.equal(await offsets.committed(topic, 0, 5000), 4n);
        await assert.rejects(open.commit(), (err: Error & { type?: string }) => {
          assert.match(String(err.type), /INVALID_PRODUCER_EPOCH|PRODUCER_FENCED/);
          return true;
        });
        assert.equal(await offsets.committed(topic, 0, 5000), 4n, 'the fenced commit changed nothing');
      } finally {
        await previous.disconnect();
        await transactions.close();
      }
    }));
});
