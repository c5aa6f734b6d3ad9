import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DLQ_HEADERS } from '../../../src/pipeline/dlq.ts';
import type { PipelineDriver } from '../../helpers/driver.ts';
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
});
