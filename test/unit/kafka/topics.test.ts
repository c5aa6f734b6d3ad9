import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GZIP_MAX_RATIO, inflationWarning } from '../../../src/kafka/topics.ts';

const MiB = 1024 * 1024;

describe('inflationWarning (librdkafka inflates gzip and lz4 input batches unbounded)', () => {
  test("Kafka's default 1 MiB batches under a 768 MiB pod: warned, with the size that would be safe", () => {
    const warning = inflationWarning('events.raw', 1_048_588, 768 * MiB);
    assert.ok(warning !== undefined);
    assert.match(warning, /events\.raw accepts record batches of up to 1048588 bytes/);
    assert.match(warning, /~1032 MiB/);
    assert.match(warning, /\(768 MiB\)/);
    const safe = Number(/to (\d+) or less/.exec(warning)?.[1]);
    assert.ok(safe * GZIP_MAX_RATIO <= 384 * MiB, `${safe} bytes inflate within half the limit`);
    assert.equal(inflationWarning('events.raw', safe, 768 * MiB), undefined, 'and that size is not warned');
  });

  test('batches that inflate within half the memory are not warned', () => {
    assert.equal(inflationWarning('events.raw', 1_048_588, 24 * 1024 * MiB), undefined);
    assert.equal(inflationWarning('events.raw', 256 * 1024, 768 * MiB), undefined);
  });

  test('an unknown size is not warned about', () => {
    assert.equal(inflationWarning('events.raw', Number.NaN, 768 * MiB), undefined);
    assert.equal(inflationWarning('events.raw', 0, 768 * MiB), undefined);
  });
});
