import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chunksOf } from '../../../src/kafka/chunks.ts';

describe('chunksOf (one transaction per chunk)', () => {
  test('consecutive chunks of at most max, every record once, in order', () => {
    const records = Array.from({ length: 23 }, (_, i) => i);
    for (const max of [1, 7, 23, 1000]) {
      const chunks = [...chunksOf(records, max)];
      assert.deepEqual(chunks.flat(), records, `max ${max}`);
      assert.equal(chunks.length, Math.ceil(records.length / max), `max ${max}`);
      for (const c of chunks.slice(0, -1)) assert.equal(c.length, max, `max ${max}: only the last is short`);
    }
  });

  test('no records, no chunks; a size below 1 is refused instead of looping forever', () => {
    assert.deepEqual([...chunksOf([], 5)], []);
    for (const max of [0, -1, 1.5, Number.NaN]) assert.throws(() => [...chunksOf([1], max)], RangeError);
  });
});
