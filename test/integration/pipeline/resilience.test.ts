/**
 * Exactly once under failure, on the real stack: SIGTERM drains; an error that escapes every handler
 * ends the instance (exit 1); kill -9 mid-stream and a restart;
 * two members in one group with rebalances; SIGTERM while a batch waits for the registry; a registry
 * restart mid-stream. In every case each event reaches each destination exactly once as seen by
 * read_committed consumers, each key's records in the order they were sent, and nothing is
 * dead-lettered. The kill -9, rebalance and SIGTERM-in-an-outage tests run on both Kafka engines
 * (PHIGATE_KAFKA_ENGINE); the rest on the default one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ENGINES } from '../../../src/kafka/index.ts';
import { consumeAll } from '../../helpers/consume.ts';
import {
  assertEveryDestinationExactlyOnce,
  assertExactlyOnce,
  assertKeysRepeated,
  bookedEvents,
  type Tally,
} from '../../helpers/exactly-once.ts';
import {
  EventProducer,
  type Keys,
  makeKeys,
  pipelineTopics,
  SEGMENT_SCHEMA,
  writePolicy,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

const run = promisify(execFile);
const STACK = fileURLToPath(new URL('../../../deploy/local/stack.sh', import.meta.url));
/** Makes a promise reject unhandled in phi-gate when it gets SIGUSR2. */
const ESCAPE = fileURLToPath(new URL('../../fixtures/escape/reject-on-sigusr2.mjs', import.meta.url));

type Names = Awaited<ReturnType<typeof pipelineTopics>>;

async function auditedCount(service: Service): Promise<number> {
  return service.counter('phigate_events_consumed_total');
}

/** Integration tests never skip: a registry a test cannot restart is a failure that says why. */
async function requireRestartableRegistry(): Promise<void> {
  const { stdout } = await run('bash', [STACK, 'running']);
  assert.ok(
    stdout.split('\n').includes('registry'),
    `this test restarts the registry through ${STACK}, but that script did not start the registry in use ` +
      `(\`${STACK} running\` lists: ${JSON.stringify(stdout.trim())}); run the integration tests against the ` +
      'local stack (`make stack-up`)',
  );
}

describe('pipeline: exactly once across crashes, restarts and rebalances', () => {
  const topics = new TestTopics();
  let keys: Keys;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
  });
  after(() => topics.cleanup());

  async function setup(
    prefix: string,
    partitions = 2,
  ): Promise<{ names: Names; policyFile: string; producer: EventProducer; groupId: string }> {
    const names = await pipelineTopics(topics, prefix, partitions);
    const policyFile = await writePolicy(keys, names);
    const producer = new EventProducer(names.input);
    await producer.connect();
    return { names, policyFile, producer, groupId: uniqueName(`${prefix}-group`) };
  }

  /**
   * A member over 600 events gets `signal` once it has processed some; it must exit with `code` and
   * log `line`. A successor in the same group then delivers every event exactly once per destination.
   */
  async function endThenSucceed(
    prefix: string,
    o: { signal: NodeJS.Signals; code: number; line: RegExp; env?: Record<string, string> },
  ): Promise<void> {
    const { names, policyFile, producer, groupId } = await setup(prefix);
    const events = bookedEvents(600);
    await producer.send(events);
    const first = await Service.start({
      ...names,
      groupId,
      policyFile,
      env: { PHIGATE_BATCH_MAX_RECORDS: '50', ...o.env },
    });
    let second: Service | undefined;
    try {
      await Service.until(
        async () => (await auditedCount(first).catch(() => 0)) > 0,
        45_000,
        'first records processed',
      );
      first.signal(o.signal);
      const exit = await first.exited();
      assert.equal(exit.code, o.code, `exit code ${o.code} after ${o.signal}:\n${first.report(2000)}`);
      assert.match(first.output, o.line);

      second = await Service.start({ ...names, groupId, policyFile });
      await assertEveryDestinationExactlyOnce(
        names,
        events.map((e) => e.messageId as string),
      );
    } finally {
      await first.stop();
      await second?.stop();
      await producer.disconnect();
    }
  }

  test('SIGTERM: the in-flight batch commits, the member leaves, exit 0; a successor continues exactly once', async () => {
    await endThenSucceed('sigterm', { signal: 'SIGTERM', code: 0, line: /shutting down/ });
  });

  test('an error that escapes every handler ends the instance: coded, exit 1; a successor continues exactly once', async () => {
    // the fixture rejects a promise on SIGUSR2 that no handler catches
    await endThenSucceed('escaped', {
      signal: 'SIGUSR2',
      code: 1,
      line: /"level":"fatal".*"code":"PHIGATE_ERR_INTERNAL".*an error escaped every handler/,
      env: { NODE_OPTIONS: `--import=${ESCAPE}` },
    });
  });

  for (const engine of ENGINES) {
    // a killed or frozen member keeps its partitions for a session timeout: 10 s here instead of the
    // default 30 s, so that the tests wait less for the group to give them away (nothing else changes)
    const ENGINE = { PHIGATE_KAFKA_ENGINE: engine, PHIGATE_SESSION_TIMEOUT_MS: '10000' };

    test(`${engine}: kill -9 mid-stream, then a restart: each event exactly once per destination, each user's in order`, async () => {
      const { names, policyFile, producer, groupId } = await setup(`kill9-${engine}`);
      const events = bookedEvents(1500, 0, 40); // 40 users: each key's order is checked too
      await producer.send(events.slice(0, 750));
      const victim = await Service.start({
        ...names,
        groupId,
        policyFile,
        env: { ...ENGINE, PHIGATE_BATCH_MAX_RECORDS: '25' },
      });
      await Service.until(
        async () => (await auditedCount(victim).catch(() => 0)) >= 50,
        45_000,
        'some records processed',
      );
      await producer.send(events.slice(750));
      victim.signal('SIGKILL');
      const exit = await victim.exited();
      assert.equal(exit.signal, 'SIGKILL');

      const successor = await Service.start({ ...names, groupId, policyFile, env: ENGINE });
      try {
        const ids = events.map((e) => e.messageId as string);
        const [warehouse] = await assertEveryDestinationExactlyOnce(names, ids);
        assertKeysRepeated(warehouse as Tally);
        const dlq = await consumeAll(names.dlq, { count: 1, timeoutMs: 1000 });
        assert.equal(dlq.length, 0, 'nothing dead-lettered');
      } finally {
        await successor.stop();
        await producer.disconnect();
      }
    });

    test(`${engine}: a frozen member (SIGSTOP) loses its partitions, then wakes (SIGCONT): no duplicate, no loss`, async () => {
      const { names, policyFile, producer, groupId } = await setup(`zombie-${engine}`);
      const events = bookedEvents(600);
      await producer.send(events.slice(0, 300));
      const zombie = await Service.start({
        ...names,
        groupId,
        policyFile,
        env: { ...ENGINE, PHIGATE_BATCH_MAX_RECORDS: '20' },
      });
      let successor: Service | undefined;
      try {
        await Service.until(
          async () => (await auditedCount(zombie).catch(() => 0)) >= 40,
          45_000,
          'the first member processed some events',
        );
        zombie.signal('SIGSTOP'); // frozen mid-stream: a long GC pause, a hung node
        successor = await Service.start({ ...names, groupId, policyFile, env: ENGINE });
        const next = successor;
        await producer.send(events.slice(300));
        // the group gives the frozen member's partitions away once its session times out
        await Service.until(
          async () => (await auditedCount(next).catch(() => 0)) > 0,
          90_000,
          'the successor took over',
        );
        zombie.signal('SIGCONT'); // the zombie wakes with a batch in hand: it must not commit it
        const ids = events.map((e) => e.messageId as string);
        await assertEveryDestinationExactlyOnce(names, ids);
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\n--- zombie ---\n${zombie.report(5000)}\n--- successor ---\n${successor?.report(5000)}`,
        );
      } finally {
        zombie.signal('SIGCONT');
        await zombie.stop();
        await successor?.stop();
        await producer.disconnect();
      }
    });

    test(`${engine}: two members split the partitions; joining and leaving rebalances lose, duplicate and reorder nothing`, async () => {
      const { names, policyFile, producer, groupId } = await setup(`rebalance-${engine}`, 4);
      const events = bookedEvents(1200, 0, 40); // 40 users: each key's order is checked too
      const a = await Service.start({
        ...names,
        groupId,
        policyFile,
        env: { ...ENGINE, PHIGATE_BATCH_MAX_RECORDS: '20' },
      });
      await a.waitReady();
      await producer.send(events.slice(0, 400));
      const b = await Service.start({
        ...names,
        groupId,
        policyFile,
        env: { ...ENGINE, PHIGATE_BATCH_MAX_RECORDS: '20' },
      });
      await b.waitReady();
      await producer.send(events.slice(400, 800));
      await Service.until(
        async () => (await auditedCount(b).catch(() => 0)) > 0,
        45_000,
        'the second member consumed',
      );
      const consumedByA = await auditedCount(a);
      assert.ok(consumedByA > 0, 'the first member consumed too');
      await a.stop(); // leaves the group mid-stream: B takes every partition
      await producer.send(events.slice(800));
      try {
        const ids = events.map((e) => e.messageId as string);
        const [warehouse] = await assertEveryDestinationExactlyOnce(names, ids);
        assertKeysRepeated(warehouse as Tally);
      } catch (err) {
        // the members' own logs say what happened at each rebalance
        throw new Error(
          `${(err as Error).message}\n--- first member ---\n${a.report(6000)}\n--- second member ---\n${b.report(10000)}`,
        );
      } finally {
        await b.stop();
        await producer.disconnect();
      }
    });
  }

  for (const engine of ENGINES) {
    test(`${engine}: SIGTERM while a batch waits for the registry: that batch is left to the successor, and no batch after it commits`, async () => {
      await requireRestartableRegistry();
      // one input partition: the batches after the waiting one hold the records after its records
      const { names, policyFile, producer, groupId } = await setup(`stop-in-outage-${engine}`, 1);
      const original = await readFile(SEGMENT_SCHEMA, 'utf8');
      const service = await Service.start({
        ...names,
        groupId,
        policyFile,
        env: { PHIGATE_KAFKA_ENGINE: engine, PHIGATE_BATCH_MAX_RECORDS: '10', PHIGATE_RETRY_MAX_MS: '2000' },
      });
      let successor: Service | undefined;
      try {
        await service.waitReady();
        const before = bookedEvents(50);
        await producer.send(before);
        await Service.until(
          async () => (await auditedCount(service)) >= 50,
          30_000,
          'first events processed',
        );

        // a schema id phi-gate has never seen, then more events of the one it has: only the first
        // batch needs the registry, which is about to go away
        const schema = JSON.parse(original);
        schema.fields.push({ name: 'campaign', type: ['null', 'string'], default: null });
        await producer.useSchema(JSON.stringify(schema));
        const waiting = bookedEvents(5, 50).map((e) => ({ ...e, campaign: 'spring' }));
        const waitingEncoded = await producer.encode(waiting);
        await producer.useSchema(original);
        const behind = bookedEvents(40, 55);
        const behindEncoded = await producer.encode(behind);
        await run('bash', [STACK, 'stop', 'registry']);
        await producer.sendRaw([...waitingEncoded, ...behindEncoded]);
        await Service.until(
          async () => (await service.counter('phigate_pauses_total', { reason: 'registry' })) > 0,
          30_000,
          'a pause',
        );
        service.signal('SIGTERM');
        await service.exited();
        await run('bash', [STACK, 'start'], { timeout: 120_000 });

        successor = await Service.start({
          ...names,
          groupId,
          policyFile,
          env: { PHIGATE_KAFKA_ENGINE: engine },
        });
        const ids = [...before, ...waiting, ...behind].map((e) => e.messageId as string);
        await assertExactlyOnce(names.warehouse, ids, 90_000);
        await assertExactlyOnce(names.mixpanel, ids);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- phi-gate output ---\n${service.report(6000)}`);
      } finally {
        await successor?.stop();
        await service.stop();
        await run('bash', [STACK, 'start'], { timeout: 120_000 });
        await producer.disconnect();
      }
    });
  }

  test('a registry restart mid-stream pauses the stream and loses nothing', async () => {
    await requireRestartableRegistry();
    const { names, policyFile, producer, groupId } = await setup('registry-restart');
    const service = await Service.start({ ...names, groupId, policyFile });
    try {
      await service.waitReady();
      const before = bookedEvents(100);
      await producer.send(before);
      await Service.until(async () => (await auditedCount(service)) >= 100, 30_000, 'first events processed');

      // a schema id phi-gate has never seen: it must ask the registry, which is about to go away
      const schema = JSON.parse(await readFile(SEGMENT_SCHEMA, 'utf8'));
      schema.fields.push({ name: 'campaign', type: ['null', 'string'], default: null });
      await producer.useSchema(JSON.stringify(schema));
      const during = bookedEvents(100, 100).map((e) => ({ ...e, campaign: 'spring' }));
      const encoded = await producer.encode(during); // the producer's own serializer needs the registry too
      await run('bash', [STACK, 'stop', 'registry']);
      await producer.sendRaw(encoded);
      await Service.until(
        async () => (await service.counter('phigate_pauses_total', { reason: 'registry' })) > 0,
        30_000,
        'a pause',
      );
      await run('bash', [STACK, 'start'], { timeout: 120_000 });

      const ids = [...before, ...during].map((e) => e.messageId as string);
      await assertExactlyOnce(names.warehouse, ids, 90_000);
      await assertExactlyOnce(names.mixpanel, ids);
      const dlq = await consumeAll(names.dlq, { count: 1, timeoutMs: 1000 });
      assert.equal(dlq.length, 0, 'an outage never floods the DLQ');
    } catch (err) {
      // the service's own log says why: attach it to the failure
      throw new Error(`${(err as Error).message}\n--- phi-gate output ---\n${service.report(6000)}`);
    } finally {
      await service.stop();
      await producer.disconnect();
    }
  });
});
