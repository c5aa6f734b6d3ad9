import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type PartitionerArgs, Partitioners, type PartitionMetadata } from 'kafkajs';
import {
  JavaCompatiblePartitioner,
  murmur2,
  partitionForKey,
} from '../../../../src/kafka/kafkajs/partitioner.ts';

// kafkajs's own Long-based murmur2: an independent implementation to compare against
const kafkajsMurmur2 = createRequire(import.meta.url)(
  'kafkajs/src/producer/partitioners/default/murmur2.js',
) as (key: Buffer | string) => number;

const metadata = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

const args = (message: PartitionerArgs['message'], partitions = 12): PartitionerArgs => ({
  topic: 't',
  partitionMetadata: metadata(partitions),
  message,
});

describe('Java-compatible partitioner', () => {
  test("murmur2 matches the Java client's test vectors (Kafka UtilsTest)", () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
  });

  test('murmur2 equals kafkajs for any bytes and any string, every tail length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        assert.equal(murmur2(bytes), kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        (key, n) => {
          const expected = (kafkajsMurmur2(key) & 0x7fffffff) % n;
          assert.equal(partitionForKey(key, n), expected);
          assert.equal(partitionForKey(Buffer.from(key, 'utf8'), n), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('places keyed records exactly where kafkajs DefaultPartitioner does, long keys included', () => {
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = [
      'user-40213',
      `mixpanel/${'0'.repeat(36)}`,
      'é✓😀',
      'k'.repeat(5000), // beyond the scratch buffer
      Buffer.from([0, 255, 1, 254]),
    ];
    for (const key of keys)
      for (const n of [1, 3, 7, 100])
        assert.equal(ours(args({ key, value: null }, n)), theirs(args({ key, value: null }, n)));
  });

  test('an explicit partition wins, even with a key; keyless records go round robin over partitions with a leader', () => {
    const p = JavaCompatiblePartitioner();
    assert.equal(p(args({ key: 'user-40213', value: null, partition: 5 })), 5);
    assert.equal(p(args({ key: null, value: null, partition: 0 })), 0);
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++)
      seen.add(p({ topic: 'rr', partitionMetadata: metadata(4, [2]), message: { key: null, value: 'x' } }));
    assert.deepEqual([...seen].sort(), [0, 1, 3]);
    const none = p({ topic: 'x', partitionMetadata: metadata(2, [0, 1]), message: { value: 'x' } });
    assert.ok(none === 0 || none === 1);
  });
});
