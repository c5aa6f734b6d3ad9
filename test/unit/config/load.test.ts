import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, loadKafkaConfig, loadRegistryConfig } from '../../../src/config/index.ts';
import { formatProblems, isPhiGateError, PhiGateError } from '../../../src/errors.ts';
import { CANARY, type Files, makeFiles, minimalEnv, problemFor, problemsOf } from './_env.ts';

describe('loadConfig', () => {
  let files: Files;
  before(() => {
    files = makeFiles();
  });
  after(() => files.cleanup());

  test('the three required variables are enough; everything else takes its default', () => {
    assert.deepEqual(loadConfig(minimalEnv(files)), {
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'phi-gate',
        ssl: false,
        sasl: null,
        connectionTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
      },
      registry: { url: 'http://127.0.0.1:8081/apis/ccompat/v7', auth: null, timeoutMs: 5000 },
      topics: {
        input: 'events.raw',
        audit: 'events.audit',
        dlq: 'events.dlq',
        inventory: 'events.inventory',
        partitions: 3,
        replicationFactor: 3,
        create: true,
      },
      groupId: 'phi-gate',
      sessionTimeoutMs: 30_000,
      engine: 'librdkafka',
      transactionalIdPrefix: 'phi-gate',
      policy: { file: files.policy, pollMs: 5000 },
      http: { host: '0.0.0.0', port: 9464 },
      logLevel: 'info',
      batch: { maxRecords: 1000, maxMs: 100, commitIntervalMs: 0 },
      partitionsConsumedConcurrently: 4,
      compression: 'none',
      shutdownTimeoutMs: 25_000,
      retry: { initialMs: 250, maxMs: 30_000 },
    });
  });

  test('the result is deeply frozen', () => {
    const config = loadConfig({ ...minimalEnv(files), KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: files.ca });
    for (const obj of [
      config,
      config.kafka,
      config.kafka.brokers,
      config.kafka.ssl,
      config.topics,
      config.retry,
    ]) {
      assert.ok(Object.isFrozen(obj));
    }
    assert.throws(() => {
      (config.kafka.brokers as string[]).push('x:1');
    }, TypeError);
  });

  test('every variable set: TLS and SASL files are loaded, passwords and names parsed', () => {
    const config = loadConfig({
      KAFKA_BROKERS: ' kafka-0:9093 , kafka-1.internal:9093,kafka-0:9093',
      KAFKA_CLIENT_ID: 'pg-prod',
      KAFKA_SSL: 'TRUE',
      KAFKA_SSL_CA_FILE: files.ca,
      KAFKA_SSL_CERT_FILE: files.cert,
      KAFKA_SSL_KEY_FILE: files.key,
      KAFKA_SSL_REJECT_UNAUTHORIZED: '0',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'phigate',
      KAFKA_SASL_PASSWORD_FILE: files.password,
      KAFKA_CONNECTION_TIMEOUT_MS: '2000',
      KAFKA_REQUEST_TIMEOUT_MS: ' 4000 ',
      SCHEMA_REGISTRY_URL: 'https://registry.example:8443/apis/ccompat/v7///',
      SCHEMA_REGISTRY_USERNAME: 'reader',
      SCHEMA_REGISTRY_PASSWORD: ` ${CANARY} `,
      SCHEMA_REGISTRY_TIMEOUT_MS: '1500',
      PHIGATE_INPUT_TOPIC: 'in',
      PHIGATE_AUDIT_TOPIC: 'audit_v1',
      PHIGATE_DLQ_TOPIC: 'dlq-1',
      PHIGATE_INVENTORY_TOPIC: 'inventory-1',
      PHIGATE_TOPIC_PARTITIONS: '12',
      PHIGATE_TOPIC_REPLICATION: '1',
      PHIGATE_CREATE_TOPICS: 'false',
      PHIGATE_GROUP_ID: 'g',
      PHIGATE_TRANSACTIONAL_ID_PREFIX: 'tx',
      PHIGATE_POLICY_FILE: files.policy,
      PHIGATE_POLICY_POLL_MS: '1000',
      PHIGATE_METRICS_HOST: '127.0.0.1',
      PHIGATE_METRICS_PORT: '0',
      PHIGATE_LOG_LEVEL: 'Debug',
      PHIGATE_BATCH_MAX_RECORDS: '500',
      PHIGATE_BATCH_MAX_MS: '50',
      PHIGATE_COMMIT_INTERVAL_MS: '250',
      PHIGATE_PARTITIONS_CONCURRENCY: '4',
      PHIGATE_SHUTDOWN_TIMEOUT_MS: '20000',
      PHIGATE_RETRY_INITIAL_MS: '100',
      PHIGATE_RETRY_MAX_MS: '100',
      PHIGATE_CACHE: '/somewhere', // the local-stack scripts' variable: accepted and ignored
      OTHER_TOOL_SETTING: 'ignored',
    });
    assert.deepEqual(
      config.kafka.brokers,
      ['kafka-0:9093', 'kafka-1.internal:9093'],
      'trimmed, deduplicated',
    );
    assert.deepEqual(config.kafka.ssl, {
      ca: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
      cert: '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n',
      key: `-----BEGIN PRIVATE KEY-----\n${CANARY}\n-----END PRIVATE KEY-----\n`,
      rejectUnauthorized: false,
    });
    assert.deepEqual(config.kafka.sasl, {
      mechanism: 'scram-sha-512',
      username: 'phigate',
      password: CANARY,
    });
    assert.equal(config.kafka.requestTimeoutMs, 4000);
    assert.deepEqual(config.batch, { maxRecords: 500, maxMs: 50, commitIntervalMs: 250 });
    assert.deepEqual(config.registry, {
      url: 'https://registry.example:8443/apis/ccompat/v7',
      auth: { username: 'reader', password: ` ${CANARY} ` }, // a password is taken verbatim
      timeoutMs: 1500,
    });
    assert.deepEqual(config.topics, {
      input: 'in',
      audit: 'audit_v1',
      dlq: 'dlq-1',
      inventory: 'inventory-1',
      partitions: 12,
      replicationFactor: 1,
      create: false,
    });
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(config.retry, { initialMs: 100, maxMs: 100 });
    assert.equal(config.partitionsConsumedConcurrently, 4);
  });

  test('blank values count as unset (defaults apply, required ones are missing)', () => {
    const config = loadConfig({ ...minimalEnv(files), PHIGATE_LOG_LEVEL: '', PHIGATE_METRICS_PORT: '  ' });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.http.port, 9464);
    assert.match(
      problemFor(problemsOf({ ...minimalEnv(files), KAFKA_BROKERS: ' ' }), 'KAFKA_BROKERS'),
      /required/,
    );
  });

  test('every problem is reported at once, each under its variable name', () => {
    const problems = problemsOf({
      KAFKA_SSL: 'yes',
      KAFKA_REQUEST_TIMEOUT_MS: '30s',
      PHIGATE_METRICS_PORT: '65536',
      PHIGATE_LOG_LEVEL: 'verbose',
      PHIGATE_LOGLEVEL: 'debug',
    });
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'KAFKA_BROKERS',
      'KAFKA_REQUEST_TIMEOUT_MS',
      'KAFKA_SSL',
      'PHIGATE_LOGLEVEL',
      'PHIGATE_LOG_LEVEL',
      'PHIGATE_METRICS_PORT',
      'PHIGATE_POLICY_FILE',
      'SCHEMA_REGISTRY_URL',
    ]);
    assert.equal(problemFor(problems, 'KAFKA_SSL'), 'must be true, false, 1 or 0, got "yes"');
    assert.equal(
      problemFor(problems, 'PHIGATE_METRICS_PORT'),
      'must be an integer from 0 to 65535, got "65536"',
    );
    assert.match(
      problemFor(problems, 'PHIGATE_LOG_LEVEL'),
      /^must be one of trace, debug, info, warn, error, fatal, silent/,
    );
    assert.match(problemFor(problems, 'KAFKA_BROKERS'), /^is required: .*host:port/);
    const text = formatProblems(new PhiGateError('PHIGATE_ERR_CONFIG', 'x', { problems }));
    assert.match(text, /8 problems/);
  });

  test('integers: digits only, within range', () => {
    for (const bad of ['-1', '1.5', '1e3', '0x10', 'ten', '99999999999999999999']) {
      const problems = problemsOf({ ...minimalEnv(files), PHIGATE_BATCH_MAX_RECORDS: bad });
      assert.match(
        problemFor(problems, 'PHIGATE_BATCH_MAX_RECORDS'),
        /^must be an integer from 1 to 100000/,
        bad,
      );
    }
    const zero = problemsOf({ ...minimalEnv(files), PHIGATE_TOPIC_PARTITIONS: '0' });
    assert.match(problemFor(zero, 'PHIGATE_TOPIC_PARTITIONS'), /from 1 to/);
    const overflow = problemsOf({ ...minimalEnv(files), PHIGATE_SHUTDOWN_TIMEOUT_MS: '2147483648' });
    assert.match(problemFor(overflow, 'PHIGATE_SHUTDOWN_TIMEOUT_MS'), /from 1 to 2147483647/);
  });

  test('brokers must be host:port entries', () => {
    for (const bad of [
      'kafka',
      'kafka:',
      'kafka:0',
      'kafka:70000',
      'a:1,,b:2',
      '[::1]:9092',
      'ka fka:9092',
    ]) {
      const problems = problemsOf({ ...minimalEnv(files), KAFKA_BROKERS: bad });
      assert.match(problemFor(problems, 'KAFKA_BROKERS'), /must be a comma-separated list of host:port/, bad);
    }
  });

  test('the registry URL: http(s), no credentials, query or fragment — and never echoed', () => {
    const cases: [string, RegExp][] = [
      ['registry:8081', /http or https|absolute/],
      ['ftp://registry/x', /must use http or https/],
      [`https://user:${CANARY}@registry/apis/ccompat/v7`, /must not embed credentials/],
      [`https://registry/apis?token=${CANARY}`, /without a query string/],
      [`not a url ${CANARY}`, /value not shown/],
    ];
    for (const [url, expected] of cases) {
      const problems = problemsOf({ ...minimalEnv(files), SCHEMA_REGISTRY_URL: url });
      const message = problemFor(problems, 'SCHEMA_REGISTRY_URL');
      assert.match(message, expected, url);
      assert.ok(!message.includes('registry/'), 'the URL is not echoed');
    }
  });

  test('topics: legal names, and input, audit and DLQ all different', () => {
    const bad = problemsOf({
      ...minimalEnv(files),
      PHIGATE_DLQ_TOPIC: 'dlq topic',
      PHIGATE_AUDIT_TOPIC: '..',
    });
    assert.match(problemFor(bad, 'PHIGATE_DLQ_TOPIC'), /Kafka topic name/);
    assert.match(problemFor(bad, 'PHIGATE_AUDIT_TOPIC'), /Kafka topic name/);
    const same = problemsOf({ ...minimalEnv(files), PHIGATE_AUDIT_TOPIC: 'events.raw' });
    assert.equal(
      problemFor(same, 'PHIGATE_AUDIT_TOPIC'),
      'must differ from PHIGATE_INPUT_TOPIC (both are "events.raw")',
    );
    const inventory = problemsOf({ ...minimalEnv(files), PHIGATE_INVENTORY_TOPIC: 'events.audit' });
    assert.equal(
      problemFor(inventory, 'PHIGATE_INVENTORY_TOPIC'),
      'must differ from PHIGATE_AUDIT_TOPIC (both are "events.audit")',
    );
  });

  test('files: missing, a directory, empty — the path is named, contents never', () => {
    const problems = problemsOf({
      ...minimalEnv(files),
      PHIGATE_POLICY_FILE: `${files.dir}/nope.yaml`,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: files.subdir,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD_FILE: files.empty,
    });
    assert.equal(problemFor(problems, 'PHIGATE_POLICY_FILE'), `"${files.dir}/nope.yaml": file not found`);
    assert.equal(problemFor(problems, 'KAFKA_SSL_CA_FILE'), `"${files.subdir}" is not a regular file`);
    assert.equal(problemFor(problems, 'KAFKA_SASL_PASSWORD_FILE'), `"${files.empty}" is empty`);
  });

  test('TLS options need KAFKA_SSL=true; a client certificate needs its key', () => {
    const off = problemsOf({
      ...minimalEnv(files),
      KAFKA_SSL_CA_FILE: files.ca,
      KAFKA_SSL_KEY_FILE: files.key,
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
    });
    for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_REJECT_UNAUTHORIZED']) {
      assert.match(problemFor(off, name), /has no effect while KAFKA_SSL is false/);
    }
    assert.equal(off.length, 3);
    const halfMtls = problemsOf({ ...minimalEnv(files), KAFKA_SSL: '1', KAFKA_SSL_CERT_FILE: files.cert });
    assert.match(problemFor(halfMtls, 'KAFKA_SSL_KEY_FILE'), /is required when KAFKA_SSL_CERT_FILE is set/);
    const config = loadConfig({ ...minimalEnv(files), KAFKA_SSL: 'true' });
    assert.deepEqual(config.kafka.ssl, { rejectUnauthorized: true }, 'TLS with the system CAs');
  });

  test('SASL: a mechanism needs a user and exactly one password source; credentials need a mechanism', () => {
    const incomplete = problemsOf({ ...minimalEnv(files), KAFKA_SASL_MECHANISM: 'plain' });
    assert.match(problemFor(incomplete, 'KAFKA_SASL_USERNAME'), /required when KAFKA_SASL_MECHANISM is set/);
    assert.match(problemFor(incomplete, 'KAFKA_SASL_PASSWORD'), /required .*KAFKA_SASL_PASSWORD_FILE/);

    const both = problemsOf({
      ...minimalEnv(files),
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: CANARY,
      KAFKA_SASL_PASSWORD_FILE: files.password,
    });
    assert.equal(
      problemFor(both, 'KAFKA_SASL_PASSWORD_FILE'),
      'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
    );

    const orphan = problemsOf({
      ...minimalEnv(files),
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: CANARY,
    });
    assert.match(problemFor(orphan, 'KAFKA_SASL_PASSWORD'), /has no effect without KAFKA_SASL_MECHANISM/);
    assert.match(problemFor(orphan, 'KAFKA_SASL_USERNAME'), /has no effect without KAFKA_SASL_MECHANISM/);

    const badMechanism = problemsOf({ ...minimalEnv(files), KAFKA_SASL_MECHANISM: 'gssapi' });
    assert.equal(problems(badMechanism), 'KAFKA_SASL_MECHANISM,KAFKA_SASL_PASSWORD,KAFKA_SASL_USERNAME');
  });

  test('registry auth: user and exactly one password source, together', () => {
    const userOnly = problemsOf({ ...minimalEnv(files), SCHEMA_REGISTRY_USERNAME: 'u' });
    assert.match(
      problemFor(userOnly, 'SCHEMA_REGISTRY_PASSWORD'),
      /required when SCHEMA_REGISTRY_USERNAME is set/,
    );
    const passwordOnly = problemsOf({ ...minimalEnv(files), SCHEMA_REGISTRY_PASSWORD_FILE: files.password });
    assert.match(
      problemFor(passwordOnly, 'SCHEMA_REGISTRY_USERNAME'),
      /required when a registry password is set/,
    );
    const config = loadConfig({
      ...minimalEnv(files),
      SCHEMA_REGISTRY_USERNAME: 'u',
      SCHEMA_REGISTRY_PASSWORD_FILE: files.password,
    });
    assert.deepEqual(
      config.registry.auth,
      { username: 'u', password: CANARY },
      'one trailing newline stripped',
    );
  });

  test('registry bearer token: one source, never with basic auth; every problem at once', () => {
    const token = loadConfig({ ...minimalEnv(files), SCHEMA_REGISTRY_BEARER_TOKEN_FILE: files.password });
    assert.equal(token.registry.bearerToken, CANARY, 'one trailing newline stripped');
    assert.equal(token.registry.auth, null);
    assert.equal(
      loadConfig({ ...minimalEnv(files), SCHEMA_REGISTRY_BEARER_TOKEN: ` ${CANARY}` }).registry.bearerToken,
      ` ${CANARY}`,
    );
    const both = problemsOf({
      ...minimalEnv(files),
      SCHEMA_REGISTRY_BEARER_TOKEN: CANARY,
      SCHEMA_REGISTRY_BEARER_TOKEN_FILE: files.password,
      SCHEMA_REGISTRY_USERNAME: 'u',
      SCHEMA_REGISTRY_PASSWORD: CANARY,
    });
    assert.equal(
      problems(both),
      'SCHEMA_REGISTRY_BEARER_TOKEN_FILE,SCHEMA_REGISTRY_PASSWORD,SCHEMA_REGISTRY_USERNAME',
    );
    assert.match(problemFor(both, 'SCHEMA_REGISTRY_USERNAME'), /excludes a registry bearer token/);
    assert.match(problemFor(both, 'SCHEMA_REGISTRY_BEARER_TOKEN_FILE'), /not both/);
  });

  test('registry CA file: loaded for an https URL, a problem with http://', () => {
    const https = loadConfig({
      ...minimalEnv(files),
      SCHEMA_REGISTRY_URL: 'https://registry.internal/apis/ccompat/v7',
      SCHEMA_REGISTRY_CA_FILE: files.ca,
    });
    assert.equal(https.registry.ca, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
    const http = problemsOf({ ...minimalEnv(files), SCHEMA_REGISTRY_CA_FILE: files.ca });
    assert.match(
      problemFor(http, 'SCHEMA_REGISTRY_CA_FILE'),
      /no effect with an http:\/\/ SCHEMA_REGISTRY_URL/,
    );
    assert.equal(loadConfig(minimalEnv(files)).registry.ca, undefined);
  });

  test('retry: the initial back-off must not exceed the maximum', () => {
    const problems = problemsOf({
      ...minimalEnv(files),
      PHIGATE_RETRY_INITIAL_MS: '5000',
      PHIGATE_RETRY_MAX_MS: '1000',
    });
    assert.equal(
      problemFor(problems, 'PHIGATE_RETRY_INITIAL_MS'),
      'must not exceed PHIGATE_RETRY_MAX_MS (5000 > 1000)',
    );
  });

  test('engine: librdkafka by default; kafkajs writes only none, gzip or zstd', () => {
    assert.equal(loadConfig(minimalEnv(files)).engine, 'librdkafka');
    for (const codec of ['snappy', 'lz4'])
      assert.equal(loadConfig({ ...minimalEnv(files), PHIGATE_COMPRESSION: codec }).compression, codec);
    const problems = problemsOf({
      ...minimalEnv(files),
      PHIGATE_KAFKA_ENGINE: 'kafkajs',
      PHIGATE_COMPRESSION: 'lz4',
    });
    assert.match(problemFor(problems, 'PHIGATE_COMPRESSION'), /only by the librdkafka engine/);
    assert.match(
      problemFor(problemsOf({ ...minimalEnv(files), PHIGATE_KAFKA_ENGINE: 'java' }), 'PHIGATE_KAFKA_ENGINE'),
      /librdkafka/,
    );
    assert.equal(loadConfig({ ...minimalEnv(files), PHIGATE_INSTANCE_ID: 'pod-7' }).instanceId, 'pod-7');
  });

  test('unknown PHIGATE_* variables are problems, with the closest known name when there is one', () => {
    const problems = problemsOf({
      ...minimalEnv(files),
      PHIGATE_METRIC_PORT: '9000',
      PHIGATE_GROUPID: 'g',
      PHIGATE_BATCH_SIZE: '10',
      PHIGATE_MIXPANEL_HMAC_KEY: CANARY,
      PHIGATE_UNSET: undefined,
    });
    assert.equal(
      problemFor(problems, 'PHIGATE_METRIC_PORT'),
      'is not a phi-gate setting: did you mean PHIGATE_METRICS_PORT?',
    );
    assert.equal(
      problemFor(problems, 'PHIGATE_GROUPID'),
      'is not a phi-gate setting: did you mean PHIGATE_GROUP_ID?',
    );
    assert.match(problemFor(problems, 'PHIGATE_BATCH_SIZE'), /prefix is reserved/);
    assert.match(problemFor(problems, 'PHIGATE_MIXPANEL_HMAC_KEY'), /name policy key variables differently/);
    assert.equal(problems.length, 4, 'a variable present with an undefined value is unset');
  });

  test('the environment object is not modified and may be frozen', () => {
    const env = Object.freeze(minimalEnv(files));
    const config = loadConfig(env);
    assert.equal(config.kafka.brokers[0], env.KAFKA_BROKERS);
  });
});

function problems(list: readonly { path: string }[]): string {
  return list
    .map((p) => p.path)
    .sort()
    .join(',');
}

describe('loadRegistryConfig (phi-gate check --registry)', () => {
  test('reads the registry settings and the input topic alone; Kafka settings may be absent', () => {
    const config = loadRegistryConfig({
      SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7/',
      SCHEMA_REGISTRY_USERNAME: 'reader',
      SCHEMA_REGISTRY_PASSWORD: CANARY,
      PHIGATE_INPUT_TOPIC: 'events.in',
      PHIGATE_SOMETHING_ELSE: 'not checked here',
    });
    assert.deepEqual(config, {
      registry: {
        url: 'http://registry:8080/apis/ccompat/v7',
        auth: { username: 'reader', password: CANARY },
        timeoutMs: 5000,
      },
      inputTopic: 'events.in',
    });
    assert.equal(loadRegistryConfig({ SCHEMA_REGISTRY_URL: 'http://r:1' }).inputTopic, 'events.raw');
  });
  test('every problem of those variables at once, the same rules as loadConfig, no secret echoed', () => {
    assert.throws(
      () =>
        loadRegistryConfig({
          SCHEMA_REGISTRY_URL: 'ftp://registry',
          SCHEMA_REGISTRY_PASSWORD: CANARY,
          SCHEMA_REGISTRY_TIMEOUT_MS: '0',
        }),
      (err: unknown) => {
        assert.ok(isPhiGateError(err, 'PHIGATE_ERR_CONFIG'));
        assert.deepEqual(
          err.problems.map((p) => p.path),
          ['SCHEMA_REGISTRY_URL', 'SCHEMA_REGISTRY_TIMEOUT_MS', 'SCHEMA_REGISTRY_USERNAME'],
        );
        assert.ok(!JSON.stringify(err.problems).includes(CANARY));
        return true;
      },
    );
  });
});

describe('loadKafkaConfig (phi-gate check: the transport warnings)', () => {
  test('the Kafka settings alone, with the same rules', () => {
    const kafka = loadKafkaConfig({
      KAFKA_BROKERS: 'k:9092',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: CANARY,
    });
    assert.equal(kafka.ssl, false);
    assert.equal(kafka.sasl?.mechanism, 'plain');
    assert.throws(
      () => loadKafkaConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'plain' }),
      (err: unknown) => isPhiGateError(err, 'PHIGATE_ERR_CONFIG') && err.problems.length === 2,
    );
  });
});
