import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, transportWarnings } from '../../../src/config/index.ts';
import { CANARY, type Files, makeFiles, minimalEnv } from './_env.ts';

describe('transportWarnings', () => {
  let files: Files;
  before(() => {
    files = makeFiles();
  });
  after(() => files.cleanup());
  const sasl = (mechanism: string) => ({
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: 'phigate',
    KAFKA_SASL_PASSWORD: CANARY,
  });

  test('none for the defaults (no SASL, no registry auth) nor for TLS + https', () => {
    assert.deepEqual(transportWarnings(loadConfig(minimalEnv(files))), []);
    const secure = loadConfig({
      ...minimalEnv(files),
      ...sasl('plain'),
      KAFKA_SSL: 'true',
      SCHEMA_REGISTRY_URL: 'https://registry.internal/apis/ccompat/v7',
      SCHEMA_REGISTRY_USERNAME: 'reader',
      SCHEMA_REGISTRY_PASSWORD: CANARY,
    });
    assert.deepEqual(transportWarnings(secure), []);
  });
  test('SASL PLAIN or SCRAM without TLS', () => {
    const [plain] = transportWarnings(loadConfig({ ...minimalEnv(files), ...sasl('plain') }));
    assert.match(plain ?? '', /KAFKA_SASL_MECHANISM=plain without KAFKA_SSL=true: .*password .*clear text/);
    const [scram] = transportWarnings(loadConfig({ ...minimalEnv(files), ...sasl('scram-sha-512') }));
    assert.match(scram ?? '', /scram-sha-512 without KAFKA_SSL=true: .*unencrypted/);
  });
  test('an unverified broker certificate', () => {
    const config = loadConfig({
      ...minimalEnv(files),
      KAFKA_SSL: 'true',
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
    });
    assert.match(transportWarnings(config).join('\n'), /KAFKA_SSL_REJECT_UNAUTHORIZED=false/);
  });
  test('registry basic auth or a bearer token over http://, never the secret itself', () => {
    const basic = loadConfig({
      ...minimalEnv(files),
      SCHEMA_REGISTRY_USERNAME: 'reader',
      SCHEMA_REGISTRY_PASSWORD: CANARY,
    });
    assert.deepEqual(transportWarnings(basic), [
      'registry basic auth over http://: the password crosses the network in clear text',
    ]);
    const bearer = loadConfig({
      ...minimalEnv(files),
      SCHEMA_REGISTRY_BEARER_TOKEN: CANARY,
      ...sasl('plain'),
    });
    const all = transportWarnings(bearer);
    assert.equal(all.length, 2, 'every warning at once');
    assert.match(all[1] ?? '', /bearer token over http:\/\//);
    assert.ok(!all.join('').includes(CANARY));
  });
  test('a part of the configuration alone (what check has)', () => {
    assert.equal(
      transportWarnings({ registry: { url: 'http://r', auth: { username: 'u', password: 'p' } } }).length,
      1,
    );
  });
});
