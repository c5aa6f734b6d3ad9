import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeConfig, ENV_VARS, loadConfig } from '../../../src/config/index.ts';
import { CANARY, type Files, makeFiles, minimalEnv } from './_env.ts';

describe('describeConfig', () => {
  let files: Files;
  before(() => {
    files = makeFiles();
  });
  after(() => files.cleanup());

  test('every secret (and the PEM certificates) shows as [set]; nothing else changes', () => {
    const config = loadConfig({
      ...minimalEnv(files),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: files.ca,
      KAFKA_SSL_CERT_FILE: files.cert,
      KAFKA_SSL_KEY_FILE: files.key,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'phigate',
      KAFKA_SASL_PASSWORD: CANARY,
      SCHEMA_REGISTRY_USERNAME: 'reader',
      SCHEMA_REGISTRY_PASSWORD_FILE: files.password,
    });
    const described = describeConfig(config);
    assert.ok(!JSON.stringify(described).includes(CANARY), 'a secret leaked into describeConfig');
    assert.ok(!JSON.stringify(described).includes('BEGIN'), 'PEM text leaked into describeConfig');
    assert.deepEqual(described, {
      ...config,
      kafka: {
        ...config.kafka,
        ssl: { ca: '[set]', cert: '[set]', key: '[set]', rejectUnauthorized: true },
        sasl: { mechanism: 'plain', username: 'phigate', password: '[set]' },
      },
      registry: { ...config.registry, auth: { username: 'reader', password: '[set]' } },
    });
  });

  test('the registry bearer token and CA show as [set]', () => {
    const config = loadConfig({
      ...minimalEnv(files),
      SCHEMA_REGISTRY_URL: 'https://registry.internal/apis/ccompat/v7',
      SCHEMA_REGISTRY_BEARER_TOKEN: CANARY,
      SCHEMA_REGISTRY_CA_FILE: files.ca,
    });
    const described = describeConfig(config);
    assert.ok(!JSON.stringify(described).includes(CANARY), 'the token leaked into describeConfig');
    assert.deepEqual(described.registry, { ...config.registry, bearerToken: '[set]', ca: '[set]' });
  });

  test('covers every secret variable of the schema', () => {
    // If a secret variable is added to schema.ts, this lists it until describeConfig handles it.
    const secrets = Object.entries(ENV_VARS)
      .filter(([, spec]) => 'secret' in spec && spec.secret)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(secrets, [
      'KAFKA_SASL_PASSWORD',
      'KAFKA_SASL_PASSWORD_FILE',
      'KAFKA_SSL_KEY_FILE',
      'SCHEMA_REGISTRY_BEARER_TOKEN',
      'SCHEMA_REGISTRY_BEARER_TOKEN_FILE',
      'SCHEMA_REGISTRY_PASSWORD',
      'SCHEMA_REGISTRY_PASSWORD_FILE',
    ]);
  });

  test('without TLS or auth it is the configuration itself, as a mutable copy', () => {
    const config = loadConfig(minimalEnv(files));
    const described = describeConfig(config);
    assert.deepEqual(described, config);
    assert.ok(!Object.isFrozen(described));
    assert.notEqual(described.kafka, config.kafka);
  });
});
