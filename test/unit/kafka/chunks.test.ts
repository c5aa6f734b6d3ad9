import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chunksOf, uncommitted } from '../../../src/kafka/chunks.ts';

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

describe('uncommitted (what is left of a batch once the committed offset is known)', () => {
  const records = [10, 11, 12, 15].map((o) => ({ offset: String(o) }));
  test('the records at or above the committed offset, in order', () => {
    assert.deepEqual(uncommitted(records, 0n), records);
    assert.deepEqual(uncommitted(records, 10n), records);
    assert.deepEqual(
      uncommitted(records, 12n).map((r) => r.offset),
      ['12', '15'],
    );
    assert.deepEqual(
      uncommitted(records, 13n).map((r) => r.offset),
      ['15'],
    );
  });
  test('a batch committed whole leaves nothing', () => {
    assert.deepEqual(uncommitted(records, 16n), []);
    assert.deepEqual(uncommitted([], 0n), []);
  });
});
