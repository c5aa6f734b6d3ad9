import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PhiGateError } from '../../../src/errors.ts';
import { DLQ_HEADERS, deadLetter } from '../../../src/pipeline/dlq.ts';
import { MAX_RECORD_BYTES } from '../../../src/pipeline/records.ts';

const source = { topic: 'events.raw', partition: 2, offset: '41' };
const error = new PhiGateError('PHIGATE_ERR_DECODE');

describe('deadLetter', () => {
  test('keeps the raw key and value untouched, with code, reason and source headers', () => {
    const value = Buffer.from([0, 0, 0, 0, 9, 1, 2, 3]);
    const out = deadLetter(Buffer.from('k'), value, { trace: 'abc' }, error, source);
    assert.equal(out.value, value);
    assert.deepEqual(out.headers, {
      trace: 'abc',
      [DLQ_HEADERS.code]: 'PHIGATE_ERR_DECODE',
      [DLQ_HEADERS.reason]: error.message,
      [DLQ_HEADERS.topic]: 'events.raw',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '41',
    });
  });

  test('a value too large for any produce request is left out, with its size: the DLQ never stalls', () => {
    const value = Buffer.alloc(MAX_RECORD_BYTES + 1);
    const out = deadLetter(Buffer.from('k'), value, undefined, error, source);
    assert.equal(out.value, null);
    assert.equal(out.headers?.[DLQ_HEADERS.droppedValueBytes], String(value.length));
    assert.equal(out.headers?.[DLQ_HEADERS.code], 'PHIGATE_ERR_DECODE');
    const fits = deadLetter(null, Buffer.alloc(MAX_RECORD_BYTES - 512), undefined, error, source);
    assert.equal(fits.value?.length, MAX_RECORD_BYTES - 512);
  });
});
