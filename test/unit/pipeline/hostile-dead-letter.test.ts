/**
 * Dead letters of hostile records through the in-process driver: whatever the record's size, its
 * dead letter fits in one produce request (a refused one would stall the partition on every retry),
 * and it still names its code, reason and source.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DLQ_HEADERS } from '../../../src/pipeline/dlq.ts';
import { MAX_RECORD_BYTES, type OutMessage } from '../../../src/pipeline/records.ts';
import type { PipelineDriver } from '../../helpers/driver.ts';
import { headerText, segmentDriver } from './support.ts';

function size(m: OutMessage): number {
  let n = (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [name, v] of Object.entries(m.headers ?? {}))
    n += Buffer.byteLength(name) + Buffer.byteLength(v);
  return n;
}

describe('dead letters of oversized hostile records', () => {
  const drivers: PipelineDriver[] = [];
  after(() => Promise.all(drivers.map((d) => d.close())));

  test('a key, or the producer headers, too large for any produce request are left out with their size', async () => {
    const driver = await segmentDriver();
    drivers.push(driver);
    const badValue = Buffer.from([2, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a]);
    const bigKey = Buffer.alloc(1200 * 1024, 0x4b);
    driver.pipe(0, [badValue], { key: bigKey });
    const bigHeaders = Object.fromEntries(
      Array.from({ length: 700 }, (_, i) => [`x-${i}`, Buffer.alloc(1024, 0x48)]),
    );
    driver.pipe(0, [badValue], { key: 'k', headers: bigHeaders });
    driver.pipe(0, [Buffer.alloc(600 * 1024, 1)], { key: Buffer.alloc(300 * 1024, 0x4b) });
    await driver.run();

    const [keyed, headed, both] = driver.deadLetters();
    assert.ok(keyed && headed && both);
    for (const m of [keyed, headed, both]) {
      assert.ok(size(m) <= MAX_RECORD_BYTES, `dead letter of ${size(m)} bytes`);
      const h = headerText(m.headers);
      assert.equal(h[DLQ_HEADERS.code], 'PHIGATE_ERR_BAD_MAGIC');
      assert.ok((h[DLQ_HEADERS.reason] ?? '').length > 0);
      assert.equal(h[DLQ_HEADERS.topic], driver.topics.input);
    }
    assert.equal(keyed.key, null);
    assert.equal(headerText(keyed.headers)[DLQ_HEADERS.droppedKeyBytes], String(bigKey.length));
    assert.equal(headerText(keyed.headers)[DLQ_HEADERS.droppedValueBytes], '6');
    assert.equal(headerText(headed.headers)[DLQ_HEADERS.droppedHeaders], '700');
    assert.equal(headerText(headed.headers)['x-1'], undefined);
    // a value and a key that fit alone but not together: the value is left out, the key kept
    assert.equal(both.value, null);
    assert.equal(both.key?.length, 300 * 1024);
  });

  test('a header without a value does not stop the batch', async () => {
    const driver = await segmentDriver();
    drivers.push(driver);
    const headers = { 'x-null': null, 'x-ok': 'v' } as unknown as Record<string, string>;
    driver.pipe(0, [Buffer.alloc(600 * 1024, 1), Buffer.from([1, 2, 3, 4, 5, 6])], { key: 'k', headers });
    const summary = await driver.run();
    assert.equal(summary.records, 2);
    const dlq = driver.deadLetters();
    assert.equal(dlq.length, 2);
    for (const m of dlq) assert.equal(headerText(m.headers)['x-ok'], 'v');
  });
});
