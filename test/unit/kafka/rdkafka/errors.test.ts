import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CODE, classify } from '../../../../src/kafka/rdkafka/errors.ts';
import { decide } from '../../../../src/kafka/retry.ts';

/** The shape of the client's LibrdKafkaError. */
const rdkafkaError = (code: number, flags: Record<string, boolean> = {}) => ({
  message: `librdkafka error ${code}`,
  code,
  errno: code,
  origin: code < -1 ? 'local' : 'kafka',
  ...flags,
});

describe('librdkafka errors onto the catalogue', () => {
  test('another instance with this transactional id: fenced, fatal', () => {
    for (const code of [CODE.PRODUCER_FENCED, CODE.FENCED, CODE.INVALID_PRODUCER_EPOCH]) {
      const d = decide(rdkafkaError(code), classify);
      assert.deepEqual([d.action, d.error.code], ['fatal', 'PHIGATE_ERR_FENCED']);
      assert.match(d.error.message, /PHIGATE_INSTANCE_ID/);
    }
  });

  test('the group moved on (KIP-447 generation check): the batch is abandoned', () => {
    for (const code of [CODE.ILLEGAL_GENERATION, CODE.UNKNOWN_MEMBER_ID, CODE.REBALANCE_IN_PROGRESS]) {
      assert.equal(decide(rdkafkaError(code), classify).action, 'abandon');
    }
  });

  test('any fatal client error and failed authentication end the instance', () => {
    assert.equal(
      decide(rdkafkaError(-195, { isFatal: true }), classify).error.code,
      'PHIGATE_ERR_KAFKA_FATAL',
    );
    assert.equal(decide(rdkafkaError(CODE.SASL_AUTHENTICATION_FAILED), classify).action, 'fatal');
  });

  test('retriable and abortable transaction errors pause and retry', () => {
    const d = decide(rdkafkaError(-185, { isRetriable: true }), classify);
    assert.deepEqual([d.action, d.error.code], ['retry', 'PHIGATE_ERR_TRANSACTION']);
    assert.equal(decide(rdkafkaError(48, { isTxnRequiresAbort: true }), classify).action, 'retry');
  });

  test('a batch the client could not decompress is a coded BAD_BATCH, not an outage', () => {
    assert.equal(classify(rdkafkaError(CODE.BAD_COMPRESSION)) instanceof Error, true);
    assert.equal(decide(rdkafkaError(CODE.BAD_COMPRESSION), classify).error.code, 'PHIGATE_ERR_BAD_BATCH');
  });

  test('what is not a librdkafka error is left alone (and is fatal as a bug)', () => {
    const bug = new TypeError('x is not a function');
    assert.equal(classify(bug), bug);
    assert.equal(decide(bug, classify).error.code, 'PHIGATE_ERR_INTERNAL');
  });
});
