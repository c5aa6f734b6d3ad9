import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CODE, classify, connectFailure } from '../../../../src/kafka/rdkafka/errors.ts';
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

  test('a refused login or certificate: its own code, fatal (librdkafka would retry it for ever)', () => {
    for (const [code, expected] of [
      [CODE.AUTHENTICATION, 'PHIGATE_ERR_KAFKA_AUTH'],
      [CODE.SASL_AUTHENTICATION_FAILED, 'PHIGATE_ERR_KAFKA_AUTH'],
      [CODE.SSL, 'PHIGATE_ERR_KAFKA_TLS'],
    ] as const) {
      const d = decide(rdkafkaError(code), classify);
      assert.deepEqual([d.action, d.error.code], ['fatal', expected]);
    }
  });

  test('a connect that timed out names the refusal behind it: error event, else FAIL log line', () => {
    const timedOut = rdkafkaError(-195);
    // the client's error events carry the text only (code -1)
    const event = { message: 'authentication failure', code: -1, origin: 'local' };
    assert.equal(
      (connectFailure(timedOut, event, undefined) as Error & { code: string }).code,
      'PHIGATE_ERR_KAFKA_AUTH',
    );
    const sasl = connectFailure(
      timedOut,
      undefined,
      'sasl_ssl://127.0.0.1:9094/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    ) as Error & { code: string };
    assert.equal(sasl.code, 'PHIGATE_ERR_KAFKA_AUTH');
    assert.match(sasl.message, /Kafka authentication failed.*invalid credentials/);
    const tls = connectFailure(
      timedOut,
      undefined,
      'sasl_ssl://127.0.0.1:9094/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed',
    ) as Error & { code: string };
    assert.equal(tls.code, 'PHIGATE_ERR_KAFKA_TLS');
    const down = connectFailure(
      timedOut,
      undefined,
      'Connect to ipv4#127.0.0.1:9094 failed: Connection refused',
    ) as Error & {
      code: string;
    };
    assert.equal(down.code, 'PHIGATE_ERR_BROKER');
    assert.match(down.message, /KAFKA_CONNECTION_TIMEOUT_MS.*Connection refused/);
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
