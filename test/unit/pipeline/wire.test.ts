import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPhiGateError } from '../../../src/errors.ts';
import { frame, frameHeader, HEADER_SIZE, unframe } from '../../../src/pipeline/wire.ts';

describe('Confluent wire format', () => {
  test('frame and unframe are inverse; the header is magic 0 + big-endian id (golden bytes)', () => {
    const header = frameHeader(0x01020304);
    assert.deepEqual([...header], [0, 1, 2, 3, 4]);
    const framed = frame(header, Buffer.from([9, 8, 7]));
    assert.deepEqual([...framed], [0, 1, 2, 3, 4, 9, 8, 7]);
    const { schemaId, body } = unframe(framed);
    assert.equal(schemaId, 0x01020304);
    assert.deepEqual([...body], [9, 8, 7]);
  });

  test('a value shorter than the header is PHIGATE_ERR_TRUNCATED, bound for the DLQ', () => {
    assert.throws(
      () => unframe(Buffer.from([0, 0, 0])),
      (err) => isPhiGateError(err, 'PHIGATE_ERR_TRUNCATED') && err.disposition === 'dlq',
    );
  });

  test('a wrong first byte is PHIGATE_ERR_BAD_MAGIC', () => {
    assert.throws(
      () => unframe(Buffer.alloc(HEADER_SIZE + 1, 1)),
      (err) => isPhiGateError(err, 'PHIGATE_ERR_BAD_MAGIC'),
    );
  });

  test('an empty body after the header is returned, not rejected here (the decoder decides)', () => {
    assert.equal(unframe(frameHeader(7)).body.length, 0);
  });
});
