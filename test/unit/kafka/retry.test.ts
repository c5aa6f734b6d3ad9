import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PhiGateError } from '../../../src/errors.ts';
import { classify as classifyKafkajs } from '../../../src/kafka/kafkajs/transactions.ts';
import { Delays, decide } from '../../../src/kafka/retry.ts';

describe('decide: the catalogue decides what an engine does with a failure', () => {
  test('pause errors are retried, abandon errors abandoned, the rest fatal', () => {
    assert.equal(decide(new PhiGateError('PHIGATE_ERR_REGISTRY_UNAVAILABLE')).action, 'retry');
    assert.equal(decide(new PhiGateError('PHIGATE_ERR_TRANSACTION')).action, 'retry');
    assert.equal(decide(new PhiGateError('PHIGATE_ERR_PARTITION_MOVED')).action, 'abandon');
    assert.equal(decide(new PhiGateError('PHIGATE_ERR_FENCED')).action, 'fatal');
    assert.equal(decide(new PhiGateError('PHIGATE_ERR_KAFKA_FATAL')).action, 'fatal');
  });

  test('an unknown error (a bug) is fatal, never a retry that pauses forever', () => {
    const decision = decide(new TypeError("Cannot read properties of undefined (reading 'x')"));
    assert.equal(decision.action, 'fatal');
    assert.equal(decision.error.code, 'PHIGATE_ERR_INTERNAL');
    assert.match(decision.error.message, /TypeError/);
    assert.equal(decide('a string thrown').error.code, 'PHIGATE_ERR_INTERNAL');
  });

  test('kafkajs: a fenced per-partition producer means the partition moved; other kafkajs errors pause', () => {
    const fenced = Object.assign(new Error('fenced'), {
      name: 'KafkaJSProtocolError',
      type: 'INVALID_PRODUCER_EPOCH',
    });
    assert.equal(decide(fenced, classifyKafkajs).action, 'abandon');
    const down = Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' });
    assert.deepEqual(
      [decide(down, classifyKafkajs).action, decide(down, classifyKafkajs).error.code],
      ['retry', 'PHIGATE_ERR_TRANSACTION'],
    );
    assert.equal(decide(new RangeError('bug'), classifyKafkajs).action, 'fatal');
  });

  test("kafkajs: its plain 'Broker not connected' (a handshake that never finished) is an outage: it pauses", () => {
    const halfConnected = decide(new Error('Broker not connected'), classifyKafkajs);
    assert.deepEqual([halfConnected.action, halfConnected.error.code], ['retry', 'PHIGATE_ERR_BROKER']);
    assert.equal(decide(new Error('something else'), classifyKafkajs).action, 'fatal');
  });

  test('back-off doubles up to the maximum', () => {
    const delays = new Delays({ initialMs: 100, maxMs: 500 });
    assert.deepEqual([delays.next(), delays.next(), delays.next(), delays.next()], [100, 200, 400, 500]);
    assert.equal(delays.attempt, 4);
  });
});
