import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DLQ_HEADERS } from '../../../src/pipeline/dlq.ts';
import { frame, frameHeader } from '../../../src/pipeline/wire.ts';
import type { PipelineDriver } from '../../helpers/driver.ts';
import { segmentEvent } from '../../helpers/pipeline.ts';
import { headerText, segmentDriver } from './support.ts';

describe('decode through the batch step: a bad record goes to the DLQ, the batch goes on', () => {
  const drivers: PipelineDriver[] = [];
  after(() => Promise.all(drivers.map((d) => d.close())));

  test('bad magic, truncated, unknown schema id, tombstone, trailing bytes: raw bytes, code, reason, one audit entry each', async () => {
    const driver = await segmentDriver();
    drivers.push(driver);
    const good = driver.encode(segmentEvent('search', 1));
    const bad: [string, Buffer | null][] = [
      ['PHIGATE_ERR_BAD_MAGIC', Buffer.concat([Buffer.from([1]), good.subarray(1)])],
      ['PHIGATE_ERR_TRUNCATED', good.subarray(0, 3)],
      ['PHIGATE_ERR_UNKNOWN_SCHEMA', frame(frameHeader(9999), good.subarray(5))],
      ['PHIGATE_ERR_NULL_VALUE', null],
      ['PHIGATE_ERR_DECODE', Buffer.concat([good, Buffer.from([0x02, 0x41])])],
    ];
    driver.pipe(0, [segmentEvent('search', 1)]);
    driver.pipe(
      0,
      bad.map(([, value]) => value),
      { key: (_, i) => `raw-key-${i}` },
    );
    driver.pipe(0, [segmentEvent('booked', 2)]);

    const summary = await driver.run();
    assert.deepEqual(summary, { committed: 1, abandoned: 0, records: 7 });
    assert.equal(driver.committedOffset(0), 7);

    const dlq = driver.deadLetters();
    assert.equal(dlq.length, bad.length);
    for (const [i, [code, value]] of bad.entries()) {
      const m = dlq[i];
      assert.ok(m, code);
      assert.deepEqual(m.value, value, `${code}: the value is kept byte for byte`);
      assert.deepEqual(m.key, Buffer.from(`raw-key-${i}`), `${code}: the key too`);
      const headers = headerText(m.headers);
      assert.equal(headers[DLQ_HEADERS.code], code);
      assert.ok((headers[DLQ_HEADERS.reason] ?? '').length > 0, `${code}: a reason`);
      assert.equal(headers[DLQ_HEADERS.topic], driver.topics.input);
      assert.equal(headers[DLQ_HEADERS.partition], '0');
      assert.equal(headers[DLQ_HEADERS.offset], String(i + 1));
    }
    // the in-memory store fails an unknown id as the registry client does on a 40403
    assert.equal(
      headerText(dlq[2]?.headers)[DLQ_HEADERS.reason],
      'schema id 9999 is not known to the registry',
    );

    const entries = driver.auditEntries().filter((a) => a.entry.outcome === 'dead_lettered');
    assert.deepEqual(
      entries.map((a) => [a.key, a.entry.errorCode, a.entry.destination, a.entry.sourceOffset]),
      bad.map(([code], i) => [`dlq/${driver.topics.input}/0/${i + 1}`, code, '*', i + 1]),
    );
    for (const { entry } of entries) assert.equal(entry.messageId, null);

    // both good records, before and after the bad ones, went on to every destination
    const decided = driver
      .auditEntries()
      .filter((a) => a.entry.kind === 'event' && a.entry.destination !== '*');
    assert.deepEqual(
      decided.map((a) => a.entry.sourceOffset),
      [0, 0, 0, 6, 6, 6],
    );
    assert.equal(driver.values('mixpanel').length, 2);

    const counted = await driver.metrics.dlqRecords.get();
    assert.deepEqual(
      Object.fromEntries(counted.values.map((v) => [v.labels.reason, v.value])),
      Object.fromEntries(bad.map(([code]) => [code, 1])),
    );
  });

  test('an empty value is a tombstone too; a record keeps its producer key', async () => {
    const driver = await segmentDriver();
    drivers.push(driver);
    driver.pipe(1, [Buffer.alloc(0)], { key: 'user-key' });
    await driver.run();
    const [m] = driver.deadLetters();
    assert.equal(headerText(m?.headers)[DLQ_HEADERS.code], 'PHIGATE_ERR_NULL_VALUE');
    assert.deepEqual(m?.key, Buffer.from('user-key'));
    assert.equal(headerText(m?.headers)[DLQ_HEADERS.partition], '1');
    assert.equal(driver.committedOffset(1), 1);
  });
});
