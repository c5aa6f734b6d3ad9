/**
 * awaitLeaders (src/kafka/topics.ts): after CreateTopics, a broker answers UNKNOWN_TOPIC_OR_PARTITION
 * until the new topic reaches its metadata cache, then may show partitions without a leader. The
 * admin here answers from a script of such replies (errors built as kafkajs builds them); the real
 * creation path runs against the broker in test/integration/kafka/topics.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs, { type Admin } from 'kafkajs';
import { isPhiGateError } from '../../../src/errors.ts';
import { awaitLeaders } from '../../../src/kafka/topics.ts';

type Reply = Error | { name: string; leaders: number[] }[];

function protocolError(type: string, code: number): Error {
  // kafkajs builds it from an entry of its error-code table (protocol/error.js); its typings say Error
  const entry = { type, code, retriable: true, message: `broker says ${type}` };
  return new kafkajs.KafkaJSProtocolError(entry as unknown as Error);
}

/** An admin whose fetchTopicMetadata answers `replies` in turn (the last one for ever). */
function scriptedAdmin(replies: readonly Reply[]): { admin: Admin; calls: () => number } {
  let calls = 0;
  const admin = {
    async fetchTopicMetadata() {
      const reply = replies[Math.min(calls, replies.length - 1)] as Reply;
      calls += 1;
      if (reply instanceof Error) throw reply;
      return {
        topics: reply.map(({ name, leaders }) => ({
          name,
          partitions: leaders.map((leader, partitionId) => ({
            partitionErrorCode: 0,
            partitionId,
            leader,
            replicas: [1],
            isr: [1],
            offlineReplicas: [],
          })),
        })),
      };
    },
  };
  return { admin: admin as unknown as Admin, calls: () => calls };
}

test('waits through an unknown topic and a partition without a leader, until every partition has one', async () => {
  const { admin, calls } = scriptedAdmin([
    protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3),
    protocolError('LEADER_NOT_AVAILABLE', 5),
    [
      { name: 'a', leaders: [1, -1] },
      { name: 'b', leaders: [1] },
    ],
    [{ name: 'a', leaders: [1, 1] }], // b not listed: not there yet
    [
      { name: 'a', leaders: [1, 1] },
      { name: 'b', leaders: [1] },
    ],
  ]);
  await awaitLeaders(admin, ['a', 'b'], 10_000);
  assert.equal(calls(), 5);
});

test('gives up after the timeout with a retryable broker error that names the topics and the last answer', async () => {
  const { admin } = scriptedAdmin([protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3)]);
  await assert.rejects(awaitLeaders(admin, ['a', 'b'], 200), (err: unknown) => {
    assert.ok(isPhiGateError(err));
    assert.equal(err.code, 'PHIGATE_ERR_BROKER');
    assert.match(err.message, /topics a, b were created but not every partition had a leader after 200 ms/);
    assert.match(err.message, /UNKNOWN_TOPIC_OR_PARTITION/);
    return true;
  });
});

test('any other error of the metadata call is thrown at once', async () => {
  const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', 29);
  const { admin, calls } = scriptedAdmin([denied]);
  await assert.rejects(awaitLeaders(admin, ['a'], 10_000), (err) => err === denied);
  assert.equal(calls(), 1);
});
