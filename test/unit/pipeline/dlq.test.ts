import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PhiGateError } from '../../../src/errors.ts';
import { DLQ_HEADERS } from '../../../src/pipeline/dlq.ts';
import type { PipelineDriver } from '../../helpers/driver.ts';
import { segmentEvent } from '../../helpers/pipeline.ts';
import { headerText, segmentDriver } from './support.ts';

describe('dead letters through the batch step', () => {
  let driver: PipelineDriver | undefined;
  after(() => driver?.close());

  test("the producer's headers are kept; ours win on a name clash", async () => {
    driver = await segmentDriver();
    driver.pipe(3, [Buffer.from('not avro at all')], {
      key: 'k-1',
      headers: {
        'x-trace': 'trace-9',
        'x-bin': Buffer.from([0xff, 0x00]),
        [DLQ_HEADERS.code]: 'forged',
        [DLQ_HEADERS.offset]: '12345',
      },
    });
    await driver.run();
    const [m] = driver.deadLetters();
    assert.ok(m);
    assert.deepEqual(m.headers?.['x-bin'], Buffer.from([0xff, 0x00]), 'a binary header stays bytes');
    const headers = headerText(m.headers);
    assert.equal(headers['x-trace'], 'trace-9');
    assert.equal(headers[DLQ_HEADERS.code], 'PHIGATE_ERR_BAD_MAGIC');
    assert.equal(headers[DLQ_HEADERS.offset], '0');
    assert.equal(headers[DLQ_HEADERS.partition], '3');
    assert.equal(headers[DLQ_HEADERS.topic], driver.topics.input);
    // the reason is the catalogue's sentence about the frame, never the record's bytes
    assert.doesNotMatch(headers[DLQ_HEADERS.reason] ?? '', /avro at all/);
    assert.deepEqual(m.value, Buffer.from('not avro at all'));
    assert.equal(m.partition, undefined, 'placed by its key, like the input');
  });

  test('a record the client could not read is dead-lettered with its error, and the stream goes on past it', async () => {
    driver = await segmentDriver();
    const error = new PhiGateError(
      'PHIGATE_ERR_BAD_BATCH',
      'the record batch holding this offset cannot be read (lz4)',
    );
    driver.pipe(0, [segmentEvent('search', 1)]);
    const offset = driver.pipeUnreadable(0, error);
    driver.pipe(0, [segmentEvent('search', 2)]);
    await driver.run();

    const letters = driver.deadLetters();
    assert.equal(letters.length, 1);
    const [m] = letters;
    assert.ok(m);
    assert.equal(m.key, null);
    assert.equal(m.value, null, 'its bytes stay in the input topic');
    const headers = headerText(m.headers);
    assert.equal(headers[DLQ_HEADERS.code], 'PHIGATE_ERR_BAD_BATCH');
    assert.equal(headers[DLQ_HEADERS.offset], offset);
    assert.match(headers[DLQ_HEADERS.reason] ?? '', /cannot be read/);
    assert.equal(driver.committedOffset(0), 3, 'committed past it, with the records around it');
    const deadLettered = driver.auditEntries().filter((a) => a.entry.outcome === 'dead_lettered');
    assert.deepEqual(
      deadLettered.map((a) => [a.key, a.entry.errorCode]),
      [[`dlq/${driver.topics.input}/0/${offset}`, 'PHIGATE_ERR_BAD_BATCH']],
    );
  });
});
