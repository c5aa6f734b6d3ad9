import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { kafkajsLogCreator, kafkajsLogLevel } from '../../../../src/kafka/kafkajs/log.ts';
import { captureLogs } from '../../../helpers/log-capture.ts';

const CANARY = 'CANARY-jane.doe@example.com-555-0100';

const capture = captureLogs;

/** A real kafkajs client (never connected) whose logs go through the bridge. */
function bridgedKafka(logger: ReturnType<typeof capture>['logger']): Kafka {
  return new Kafka({
    clientId: 'test',
    brokers: ['127.0.0.1:1'],
    logLevel: logLevel.DEBUG,
    logCreator: kafkajsLogCreator(logger),
  });
}

describe('kafkajsLogCreator', () => {
  test('retriable protocol responses and the bounded-retries notice are demoted to debug; other errors stay', () => {
    const { logger, lines } = capture('debug');
    const kafka = bridgedKafka(logger);
    kafka
      .logger()
      .namespace('Connection')
      .error('Response GroupCoordinator(key: 10, version: 2)', { error: 'loading' });
    kafka
      .logger()
      .namespace('Producer')
      .warn('Limiting retries for the idempotent producer may invalidate EoS guarantees');
    kafka.logger().namespace('Connection').error('Connection error: ECONNREFUSED');
    assert.deepEqual(
      lines().map((l) => [l.level, l.namespace]),
      [
        ['debug', 'Connection'],
        ['debug', 'Producer'],
        ['error', 'Connection'],
      ],
    );
  });

  test('a real kafkajs client logs through pino with component, namespace and mapped levels', () => {
    const { logger, lines } = capture('debug');
    const kafka = bridgedKafka(logger);
    const kafkaLogger = kafka.logger().namespace('Consumer');
    kafkaLogger.error('group crashed', { groupId: 'g', retryCount: 2 });
    kafkaLogger.warn('slow');
    kafkaLogger.info('joined');
    kafkaLogger.debug('fetching');
    const all = lines();
    assert.deepEqual(
      all.map((l) => [l.level, l.msg]),
      [
        ['error', 'group crashed'],
        ['warn', 'slow'],
        ['info', 'joined'],
        ['debug', 'fetching'],
      ],
    );
    assert.equal(all[0]!.component, 'kafkajs');
    assert.equal(all[0]!.namespace, 'Consumer');
    assert.equal(all[0]!.groupId, 'g');
    assert.equal(all[0]!.retryCount, 2);
    assert.equal(all[0]!.logger, undefined, "kafkajs's own logger name is dropped");
  });

  test('decoded protocol responses (`data`) and payloads never reach the log', () => {
    const { logger, raw, lines } = capture('debug');
    const log = kafkajsLogCreator(logger)(logLevel.DEBUG);
    log({
      namespace: 'Connection',
      level: logLevel.DEBUG,
      label: 'DEBUG',
      log: {
        timestamp: new Date().toISOString(),
        message: 'Response Fetch(key: 1, version: 11)',
        correlationId: 7,
        data: { responses: [{ value: CANARY }] },
        payload: { type: 'Buffer', data: CANARY },
      },
    });
    assert.ok(!raw.join('').includes('CANARY'));
    const [line] = lines();
    assert.equal(line!.data, '[redacted]');
    assert.equal(line!.payload, '[redacted]');
    assert.equal(line!.correlationId, 7);
  });

  test('kafkajsLogLevel lets through what the pino level shows', () => {
    assert.equal(kafkajsLogLevel('trace'), logLevel.DEBUG);
    assert.equal(kafkajsLogLevel('debug'), logLevel.DEBUG);
    assert.equal(kafkajsLogLevel('info'), logLevel.INFO);
    assert.equal(kafkajsLogLevel('warn'), logLevel.WARN);
    assert.equal(kafkajsLogLevel('error'), logLevel.ERROR);
    assert.equal(kafkajsLogLevel('fatal'), logLevel.ERROR);
    assert.equal(kafkajsLogLevel('silent'), logLevel.NOTHING);
  });
});
