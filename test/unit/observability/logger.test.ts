import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PhiGateError } from '../../../src/errors.ts';
import { captureLogs } from '../../helpers/log-capture.ts';

const CANARY = 'CANARY-jane.doe@example.com-555-0100';

const capture = captureLogs;

describe('createLogger', () => {
  test('payload- and secret-bearing fields are redacted at the top level and two levels down', () => {
    const { logger, raw, lines } = capture();
    logger.info(
      {
        value: CANARY,
        key: CANARY,
        payload: { email: CANARY },
        record: { value: CANARY },
        event: { userId: CANARY },
        headers: { 'x-user': CANARY },
        properties: { email: CANARY },
        traits: { email: CANARY },
        context: { ip: CANARY },
        password: CANARY,
        message: { value: CANARY, key: CANARY, offset: '42' },
        sasl: { mechanism: 'plain', password: CANARY },
        auth: { username: 'reader', password: CANARY },
        batch: { records: [CANARY], first: { value: CANARY, headers: { h: CANARY } } },
        out: [{ value: CANARY }],
        topic: 'events.raw',
        partition: 3,
        destination: 'mixpanel',
      },
      'batch processed',
    );
    assert.ok(!raw.join('').includes('CANARY'), `the canary leaked: ${raw.join('')}`);
    const [line] = lines();
    for (const field of [
      'value',
      'key',
      'payload',
      'record',
      'event',
      'headers',
      'properties',
      'traits',
      'context',
    ]) {
      assert.equal(line![field], '[redacted]', field);
    }
    assert.deepEqual(line!.message, { value: '[redacted]', key: '[redacted]', offset: '42' });
    assert.deepEqual(line!.sasl, { mechanism: 'plain', password: '[redacted]' });
    assert.deepEqual(line!.auth, { username: 'reader', password: '[redacted]' });
    assert.deepEqual(line!.batch, {
      records: '[redacted]',
      first: { value: '[redacted]', headers: '[redacted]' },
    });
    assert.deepEqual(line!.out, [{ value: '[redacted]' }]);
    assert.equal(line!.topic, 'events.raw', 'ids and names are kept');
    assert.equal(line!.partition, 3);
    assert.equal(line!.destination, 'mixpanel');
    assert.equal(line!.msg, 'batch processed');
  });

  test('child bindings are redacted too', () => {
    const { logger, raw } = capture();
    logger.child({ record: CANARY, partition: 1 }).warn('from a child');
    assert.ok(!raw.join('').includes('CANARY'));
    assert.match(raw.join(''), /"partition":1/);
  });

  test('errors use the std serializer: type, message and stack with causes, code, problems', () => {
    const { logger, raw, lines } = capture();
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const err = new PhiGateError('PHIGATE_ERR_CONFIG', 'runtime configuration is invalid', {
      cause,
      problems: [{ path: 'KAFKA_BROKERS', message: 'is required' }],
    });
    logger.error({ err }, 'cannot start');
    logger.error({ err: Object.assign(new Error('decode failed'), { value: CANARY }) }, 'bad record');
    const [first, second] = lines();
    assert.equal(first!.err.type, 'PhiGateError');
    // pino's serializer appends the causes' messages: a cause must not embed a value either.
    assert.equal(first!.err.message, 'runtime configuration is invalid: socket hang up');
    assert.equal(first!.err.code, 'PHIGATE_ERR_CONFIG');
    assert.equal(first!.err.disposition, 'fatal');
    assert.deepEqual(first!.err.problems, [{ path: 'KAFKA_BROKERS', message: 'is required' }]);
    assert.match(first!.err.stack, /PhiGateError: runtime configuration is invalid/);
    assert.match(first!.err.stack, /caused by: Error: socket hang up/);
    assert.equal(second!.err.value, '[redacted]', 'a value hung on an error is redacted');
    assert.ok(!raw.join('').includes('CANARY'));
  });

  test('level label, ISO time, pid, hostname and base fields; levels below the threshold are dropped', () => {
    const { logger, lines } = capture('info', { service: 'phi-gate' });
    logger.debug('hidden');
    logger.info('shown');
    const all = lines();
    assert.equal(all.length, 1);
    const [line] = all;
    assert.equal(line!.level, 'info');
    assert.ok(!Number.isNaN(Date.parse(line!.time)), 'ISO timestamp');
    assert.equal(line!.pid, process.pid);
    assert.equal(typeof line!.hostname, 'string');
    assert.equal(line!.service, 'phi-gate');
  });

  test('silent logs nothing', () => {
    const { logger, raw } = capture('silent');
    logger.fatal('nothing');
    assert.equal(raw.length, 0);
  });
});
