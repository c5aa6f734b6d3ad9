/**
 * phi-gate through a real SASL_SSL listener (TLS + SCRAM-SHA-512): the local stack's second client
 * listener (deploy/local/stack.sh), whose address, CA, user and password file `stack.sh env` exports.
 * On both Kafka engines: events produced to the input topic arrive sanitized at every destination,
 * read back by read_committed consumers; a wrong password and a CA that did not sign the broker's
 * certificate end `phi-gate run` at start, non-zero, with a coded error naming authentication or
 * TLS — no retry loop hiding them — and no password in any line it wrote. The librdkafka engine is
 * also started on its own, since in `phi-gate run` the admin client connects (and fails) first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config/index.ts';
import { isPhiGateError } from '../../../src/errors.ts';
import { ENGINES } from '../../../src/kafka/index.ts';
import { RdkafkaEngine } from '../../../src/kafka/rdkafka/engine.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { consumeAll } from '../../helpers/consume.ts';
import {
  containsCanary,
  EventProducer,
  type Keys,
  makeKeys,
  pipelineTopics,
  segmentEvent,
  writePolicy,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { REGISTRY_URL, registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';
import { tempDir } from '../../helpers/temp.ts';

const run = promisify(execFile);

/** The secured listener, as `deploy/local/stack.sh env` exports it. */
const SECURED = {
  brokers: process.env.KAFKA_SASL_SSL_BROKERS ?? '',
  caFile: process.env.KAFKA_SASL_SSL_CA_FILE ?? '',
  username: process.env.KAFKA_SASL_SSL_USERNAME ?? '',
  passwordFile: process.env.KAFKA_SASL_SSL_PASSWORD_FILE ?? '',
};

/** Start-up must end well within this (a retry loop would take a minute and more). */
const REFUSAL_DEADLINE_MS = 20_000;

async function requireSecuredListener(): Promise<void> {
  const how =
    'start the local stack with `make stack-up` and export its settings with ' +
    '`eval "$(bash deploy/local/stack.sh env)"` (a broker started before the listener existed needs ' +
    '`bash deploy/local/stack.sh stop kafka && make stack-up`)';
  const missing = Object.entries({
    KAFKA_SASL_SSL_BROKERS: SECURED.brokers,
    KAFKA_SASL_SSL_CA_FILE: SECURED.caFile,
    KAFKA_SASL_SSL_USERNAME: SECURED.username,
    KAFKA_SASL_SSL_PASSWORD_FILE: SECURED.passwordFile,
  }).filter(([, value]) => value === '');
  if (missing.length > 0)
    throw new Error(
      `these tests need the SASL_SSL listener; ${missing.map(([n]) => n).join(', ')} unset: ${how}`,
    );
  for (const file of [SECURED.caFile, SECURED.passwordFile])
    if (!existsSync(file)) throw new Error(`the SASL_SSL listener's ${file} does not exist: ${how}`);
  const [host, port] = SECURED.brokers.split(',')[0]?.split(':') ?? [];
  const open = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (!open) throw new Error(`no SASL_SSL listener answers at ${SECURED.brokers}: ${how}`);
}

/** phi-gate's settings for the secured listener; `override` replaces some of them. */
function securedEnv(engine: string, override: Record<string, string> = {}): Record<string, string> {
  return {
    PHIGATE_KAFKA_ENGINE: engine,
    KAFKA_BROKERS: SECURED.brokers,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: SECURED.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: SECURED.username,
    KAFKA_SASL_PASSWORD_FILE: SECURED.passwordFile,
    ...override,
  };
}

/** A CA of the test's own, which signed nothing the broker presents. */
async function untrustedCa(dir: string): Promise<string> {
  const file = join(dir, 'untrusted-ca.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    join(dir, 'untrusted-ca.key'),
    '-out',
    file,
    '-days',
    '1',
    '-subj',
    '/CN=phi-gate test untrusted CA',
  ]);
  return file;
}

describe('phi-gate through a SASL_SSL listener (TLS + SCRAM-SHA-512)', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let password: string;
  let otherCa: string;

  before(async () => {
    await requireStack();
    await requireSecuredListener();
    keys = await makeKeys();
    password = (await readFile(SECURED.passwordFile, 'utf8')).replace(/\n$/, '');
    otherCa = await untrustedCa(tempDir('tls'));
  });
  after(() => topics.cleanup());

  /** Starts phi-gate with `env` and waits for it to exit on its own. */
  async function refusedStart(engine: string, prefix: string, env: Record<string, string>) {
    const names = await pipelineTopics(topics, prefix);
    const policyFile = await writePolicy(keys, names);
    const started = Date.now();
    const service = await Service.start({ ...names, groupId: uniqueName(prefix), policyFile, env });
    const timer = setTimeout(() => service.signal('SIGKILL'), REFUSAL_DEADLINE_MS);
    const exit = await service.exited();
    clearTimeout(timer);
    const elapsed = Date.now() - started;
    assert.notEqual(
      exit.signal,
      'SIGKILL',
      `${engine}: still running after ${REFUSAL_DEADLINE_MS} ms:\n${service.report(3000)}`,
    );
    assert.equal(exit.code, 1, `${engine}: exit code 1:\n${service.report(3000)}`);
    assert.equal(service.output.includes(password), false, 'the password appears in no line');
    return { output: service.output, elapsed };
  }

  for (const engine of ENGINES) {
    test(`${engine}: events cross the SASL_SSL listener end to end, sanitized, exactly once`, async () => {
      const names = await pipelineTopics(topics, `sasl-${engine}`);
      const policyFile = await writePolicy(keys, names);
      const producer = new EventProducer(names.input);
      await producer.connect();
      const service = await Service.start({
        ...names,
        groupId: uniqueName(`sasl-${engine}`),
        policyFile,
        env: securedEnv(engine),
      });
      try {
        await service.waitReady();
        // booked: every destination receives it. Keys: mixpanel hashes, ads drops, warehouse keeps
        // the raw key (its policy says so), so its keys are not checked.
        const events = Array.from({ length: 20 }, (_, i) => segmentEvent('booked', i));
        await producer.send(events);
        const reg = registry();
        const expected = events.map((e) => e.messageId).sort();
        for (const topic of [names.mixpanel, names.ads, names.warehouse]) {
          const received = await consumeAll(topic, { count: events.length, settleMs: 300 });
          const ids: string[] = [];
          for (const r of received) {
            const key = topic === names.warehouse ? null : r.message.key;
            assert.equal(containsCanary(key, r.message.value), null, `${topic}: no PHI`);
            ids.push((await reg.decode(r.message.value as Buffer)).messageId as string);
          }
          assert.deepEqual(ids.sort(), expected, `${topic}: each event once`);
        }
        assert.match(service.output, /phi-gate started/);
        assert.match(service.output, new RegExp(`"engine":"${engine}"`));
      } finally {
        const exit = await service.stop();
        await producer.disconnect();
        assert.equal(exit.code, 0, `SIGTERM: exit 0:\n${service.report(2000)}`);
        assert.equal(service.output.includes(password), false, 'the password appears in no line');
      }
    });

    test(`${engine}: a wrong password ends start-up with PHIGATE_ERR_KAFKA_AUTH, exit 1`, async () => {
      const wrong = `not-the-password-${uniqueName('pw')}`;
      const { output } = await refusedStart(
        engine,
        `sasl-badpw-${engine}`,
        securedEnv(engine, { KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: wrong }),
      );
      assert.match(output, /phi-gate failed to start: PHIGATE_ERR_KAFKA_AUTH: Kafka authentication failed/);
      assert.ok(output.includes(`for user \\"${SECURED.username}\\"`), 'the message names the user');
      assert.equal(output.includes(wrong), false, 'the wrong password appears in no line either');
    });

    test(`${engine}: a CA that did not sign the broker certificate ends start-up with PHIGATE_ERR_KAFKA_TLS, exit 1`, async () => {
      const { output } = await refusedStart(
        engine,
        `sasl-badca-${engine}`,
        securedEnv(engine, { KAFKA_SSL_CA_FILE: otherCa }),
      );
      assert.match(
        output,
        /phi-gate failed to start: PHIGATE_ERR_KAFKA_TLS: TLS handshake with the Kafka broker failed/,
      );
      assert.match(output, /certificate/);
    });
  }

  describe('the librdkafka engine on its own (phi-gate run connects the admin client first)', () => {
    async function startEngine(override: Record<string, string>): Promise<unknown> {
      const names = await pipelineTopics(topics, 'sasl-rdkafka-alone');
      const config = loadConfig({
        ...securedEnv('librdkafka', override),
        SCHEMA_REGISTRY_URL: REGISTRY_URL,
        PHIGATE_POLICY_FILE: await writePolicy(keys, names),
        PHIGATE_INPUT_TOPIC: names.input,
        PHIGATE_GROUP_ID: uniqueName('sasl-rdkafka-alone'),
        PHIGATE_INSTANCE_ID: uniqueName('sasl-rdkafka-alone'),
        KAFKA_CONNECTION_TIMEOUT_MS: '2500',
      });
      const engine = new RdkafkaEngine({
        config,
        metrics: createMetrics(new Registry(), { defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
        hooks: { onFatal: () => undefined },
      });
      const started = Date.now();
      try {
        await engine.start(async () => {
          throw new Error('no batch is expected');
        });
        return undefined;
      } catch (err) {
        assert.ok(Date.now() - started < REFUSAL_DEADLINE_MS, 'refused within the deadline');
        return err;
      } finally {
        await engine.close();
      }
    }

    test('a wrong password: start rejects with PHIGATE_ERR_KAFKA_AUTH', async () => {
      const err = await startEngine({
        KAFKA_SASL_PASSWORD_FILE: '',
        KAFKA_SASL_PASSWORD: 'not-the-password',
      });
      assert.ok(isPhiGateError(err, 'PHIGATE_ERR_KAFKA_AUTH'), `got ${String(err)}`);
      assert.match(err.message, /Kafka authentication failed/);
      assert.equal(err.message.includes('not-the-password'), false);
    });

    test('an untrusted CA: start rejects with PHIGATE_ERR_KAFKA_TLS', async () => {
      const err = await startEngine({ KAFKA_SSL_CA_FILE: otherCa });
      assert.ok(isPhiGateError(err, 'PHIGATE_ERR_KAFKA_TLS'), `got ${String(err)}`);
      assert.match(err.message, /TLS handshake with the Kafka broker failed/);
    });
  });
});
