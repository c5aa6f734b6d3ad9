import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { classifyConnectError } from '../../../../src/kafka/kafkajs/verify.ts';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = kafkajs;
// typed without arguments; at run time it takes its message as every kafkajs error does
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (
  message: string,
) => Error;
const config = {
  brokers: ['kafka-0:9094'],
  sasl: { mechanism: 'scram-sha-512' as const, username: 'svc-phigate', password: 'p4ss-do-not-print' },
};

describe('a connection a retry cannot fix (kafkajs)', () => {
  test('a refused SASL login is PHIGATE_ERR_KAFKA_AUTH, naming the user and never the password', () => {
    const err = classifyConnectError(
      new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: invalid credentials'),
      config,
    );
    assert.equal(err?.code, 'PHIGATE_ERR_KAFKA_AUTH');
    assert.equal(err?.disposition, 'fatal');
    assert.match(err?.message ?? '', /Kafka authentication failed.*"svc-phigate".*KAFKA_SASL_PASSWORD/);
    assert.equal(err?.message.includes('p4ss-do-not-print'), false);
  });

  test('an untrusted certificate, even wrapped by the retrier, is PHIGATE_ERR_KAFKA_TLS', () => {
    const tls = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    for (const raw of [tls, new KafkaJSNumberOfRetriesExceeded(tls, { retryCount: 0, retryTime: 300 })]) {
      const err = classifyConnectError(raw, config);
      assert.equal(err?.code, 'PHIGATE_ERR_KAFKA_TLS');
      assert.match(err?.message ?? '', /TLS handshake.*self-signed.*KAFKA_SSL_CA_FILE/);
    }
    const name = new KafkaJSConnectionError('Connection error: Hostname/IP does not match', {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    assert.equal(classifyConnectError(name, config)?.code, 'PHIGATE_ERR_KAFKA_TLS');
  });

  test('a broker that is not up yet is left to the retries', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
    });
    assert.equal(classifyConnectError(refused, config), undefined);
    assert.equal(classifyConnectError(new Error('timeout'), config), undefined);
    assert.equal(classifyConnectError(undefined, config), undefined);
  });
});
