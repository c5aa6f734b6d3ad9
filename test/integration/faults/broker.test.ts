/**
 * Broker faults, on a broker of the test's own (test/helpers/broker.ts; the shared one is never
 * touched): the broker is killed with -9 mid-stream and started again on its data, or frozen
 * (SIGSTOP) for longer than phi-gate's request timeout and then thawed. phi-gate keeps running,
 * pauses, recovers by itself, and a read_committed consumer sees every event exactly once per
 * destination, with nothing dead-lettered. And a transaction commit that the broker applied but
 * answered as failed (a proxy rewrites the answer): phi-gate must find it committed, not commit its
 * records again. On both Kafka engines (PHIGATE_FAULT_ENGINES narrows them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINES } from '../../../src/kafka/index.ts';
import { PrivateBroker } from '../../helpers/broker.ts';
import { consumeAll } from '../../helpers/consume.ts';
import { assertEveryDestinationExactlyOnce, bookedEvents, summary } from '../../helpers/exactly-once.ts';
import { API, type KafkaProxy } from '../../helpers/kafka-proxy.ts';
import { EventProducer, type Keys, makeKeys, pipelineTopics, writePolicy } from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { kafka, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

const SELECTED = (process.env.PHIGATE_FAULT_ENGINES ?? ENGINES.join(','))
  .split(',')
  .map((e) => e.trim())
  .filter(Boolean);
/** Short, so that a frozen broker outlasts it many times over. */
const REQUEST_TIMEOUT_MS = 2000;
/** Longer than the request timeout and than the transaction timeout (10 s) of the open transaction. */
const FREEZE_MS = 12_000;
/** Short, so that a frozen broker outlasts a new client's connection attempt twice over. */
const CONNECTION_TIMEOUT_MS = 4000;

/** A private broker, its topics and the policy keys, for one describe block. */
interface Bench {
  keys: Keys;
  broker: PrivateBroker;
  topics: TestTopics;
}

/** Starts the describe block's private broker in `before` and removes it in `after`. */
function privateBench(options: { proxy?: boolean } = {}): () => Bench {
  let bench: Bench | undefined;
  before(async () => {
    assert.ok(SELECTED.length > 0, 'PHIGATE_FAULT_ENGINES names no engine');
    for (const e of SELECTED) assert.ok((ENGINES as readonly string[]).includes(e), `unknown engine ${e}`);
    await requireStack(); // the shared registry
    const keys = await makeKeys();
    const broker = await PrivateBroker.start(options);
    bench = { keys, broker, topics: new TestTopics(kafka('phi-gate-test-admin', broker.brokers).admin()) };
  });
  after(async () => {
    await bench?.topics.cleanup().catch(() => undefined); // deletes the registry subjects too
    await bench?.broker.destroy();
  });
  return () => bench as Bench;
}

/**
 * Writes the first `sent` of `total` booked events to a fresh input topic of the bench's broker and
 * starts phi-gate over it on `engine`; the rest are the test's to send after its fault.
 */
async function startStream(
  { keys, broker, topics }: Bench,
  prefix: string,
  engine: string,
  o: { total: number; sent: number; env: Record<string, string>; partitions?: number },
) {
  const names = await pipelineTopics(topics, prefix, o.partitions ?? 2);
  const producer = new EventProducer(names.input, { brokers: broker.brokers });
  await producer.connect();
  const events = bookedEvents(o.total, 0, 40); // 40 users: each key's order is checked too
  await producer.send(events.slice(0, o.sent));
  const service = await Service.start({
    ...names,
    groupId: uniqueName(`${prefix}-group`),
    policyFile: await writePolicy(keys, names),
    brokers: broker.brokers,
    env: { PHIGATE_KAFKA_ENGINE: engine, ...o.env },
  });
  return { names, producer, events, brokers: broker.brokers, service, life: watch(service) };
}

type Stream = Awaited<ReturnType<typeof startStream>>;

/**
 * Runs `body` over a stream (startStream); a failure carries the service's and the broker's logs.
 * Afterwards the broker is thawed if the body left it frozen, phi-gate stopped, the producer closed.
 */
async function withStream(
  bench: Bench,
  prefix: string,
  engine: string,
  o: Parameters<typeof startStream>[3],
  body: (stream: Stream) => Promise<void>,
): Promise<void> {
  const stream = await startStream(bench, prefix, engine, o);
  try {
    await body(stream);
  } catch (err) {
    throw await explain(err, stream.service, bench.broker);
  } finally {
    if (bench.broker.frozen) bench.broker.thaw();
    await stream.service.stop();
    await stream.producer.disconnect();
  }
}

/** Resolves once phi-gate has consumed at least `n` events. */
function consumedAtLeast(service: Service, n: number): Promise<void> {
  return Service.until(
    async () => (await service.counter('phigate_events_consumed_total').catch(() => 0)) >= n,
    45_000,
    'some records processed',
  );
}

/**
 * Attaches the service's and the broker's logs to a failure: they say what happened. Generously: a
 * failure here can be rare (one run in tens), and its message is all CI keeps of it; phi-gate's own
 * lines of a whole test fit (the client's share is its tail).
 */
async function explain(err: unknown, service: Service | undefined, broker: PrivateBroker): Promise<Error> {
  return new Error(
    `${(err as Error).message}\n--- phi-gate ---\n${service?.report(40_000)}\n--- broker ---\n${await broker.logTail(8000)}`,
  );
}

/** Whether the process is still running: set once it exits, whatever the reason. */
function watch(service: Service): { readonly exited: boolean } {
  const state = { exited: false };
  void service.exited().then(() => {
    state.exited = true;
  });
  return state;
}

/** Where the fault caught the transaction (librdkafka's log lines; the kafkajs engine has neither). */
function paths(service: Service): string {
  return `commit resumed: ${service.output.includes('resuming it')}; producer replaced: ${service.output.includes('replacing it')}`;
}

async function evidence(service: Service): Promise<{
  pausedBroker: number;
  aborted: number;
  committed: number;
  foundCommitted: number;
  consumed: number;
}> {
  return {
    pausedBroker: await service.counter('phigate_pauses_total', { reason: 'broker' }),
    aborted: await service.counter('phigate_transactions_total', { outcome: 'aborted' }),
    committed: await service.counter('phigate_transactions_total', { outcome: 'committed' }),
    foundCommitted: await service.counter('phigate_transactions_found_committed_total'),
    consumed: await service.counter('phigate_events_consumed_total'),
  };
}

async function assertDelivered(
  t: TestContext,
  names: Awaited<ReturnType<typeof pipelineTopics>>,
  events: readonly { messageId?: unknown }[],
  brokers: readonly string[],
): Promise<void> {
  const ids = events.map((e) => e.messageId as string);
  const tallies = await assertEveryDestinationExactlyOnce(names, ids, { brokers });
  for (const tally of tallies) t.diagnostic(summary(tally));
  const dlq = await consumeAll(names.dlq, { count: 1, timeoutMs: 1000, brokers });
  assert.equal(dlq.length, 0, 'nothing dead-lettered');
}

describe('broker faults: phi-gate pauses, recovers by itself, exactly once per destination', () => {
  const bench = privateBench();

  for (const engine of SELECTED) {
    test(`${engine}: kill -9 of the broker mid-stream, restarted on its data: phi-gate recovers by itself`, async (t) => {
      await withStream(
        bench(),
        `bk9-${engine}`,
        engine,
        {
          total: 1200,
          sent: 900,
          env: { PHIGATE_BATCH_MAX_RECORDS: '10' },
        },
        async ({ names, producer, events, brokers, service, life }) => {
          await consumedAtLeast(service, 50);
          await bench().broker.kill9();
          const atKill = await evidence(service);
          assert.ok(atKill.consumed < 900, `the broker died mid-stream (consumed ${atKill.consumed} of 900)`);
          await sleep(3000); // phi-gate meets a refused connection for a while
          assert.ok(!life.exited, 'phi-gate outlives its broker');
          await bench().broker.resume();
          await producer.send(events.slice(900));
          await assertDelivered(t, names, events, brokers);
          assert.ok(!life.exited, 'phi-gate is still running');
          t.diagnostic(
            `at the kill ${JSON.stringify(atKill)}; after ${JSON.stringify(await evidence(service))}`,
          );
          t.diagnostic(paths(service));
        },
      );
    });

    test(`${engine}: the broker frozen longer than the request timeout, then thawed: phi-gate pauses and recovers`, async (t) => {
      const b = bench().broker;
      await withStream(
        bench(),
        `bkstop-${engine}`,
        engine,
        {
          total: 1200,
          sent: 900,
          env: {
            // large batches: most of the time goes into flushing and committing them, so the freeze
            // mostly catches a commit in flight (librdkafka must resume it, not abort it)
            PHIGATE_BATCH_MAX_RECORDS: '100',
            KAFKA_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          },
        },
        async ({ names, producer, events, brokers, service, life }) => {
          await consumedAtLeast(service, 100);
          b.freeze();
          const atFreeze = await evidence(service);
          assert.ok(
            atFreeze.consumed < 900,
            `the broker froze mid-stream (consumed ${atFreeze.consumed} of 900)`,
          );
          await sleep(FREEZE_MS);
          const whileFrozen = await evidence(service);
          assert.ok(!life.exited, 'phi-gate outlives a frozen broker');
          b.thaw();
          await producer.send(events.slice(900));
          await assertDelivered(t, names, events, brokers);
          assert.ok(!life.exited, 'phi-gate is still running');
          const end = await evidence(service);
          t.diagnostic(
            `at the freeze ${JSON.stringify(atFreeze)}; frozen ${JSON.stringify(whileFrozen)}; after ${JSON.stringify(end)}`,
          );
          t.diagnostic(paths(service));
          // the pause: phi-gate's own back-off, or — on kafkajs, whose producer retries a timed-out
          // request a dozen times before giving up — the client's retries alone may span the freeze
          const clientRetried = engine === 'kafkajs' && /"retryCount":\d+.*timed out/.test(service.output);
          assert.ok(
            end.pausedBroker > 0 || clientRetried,
            `phi-gate paused on the broker outage (phigate_pauses_total{reason="broker"}, or kafkajs's request retries): ${JSON.stringify(end)}`,
          );
        },
      );
    });
  }
});

/** Kafka's UNKNOWN_SERVER_ERROR: neither client retries an EndTxn answered with it. */
const UNKNOWN_SERVER_ERROR = -1;
/** Kafka's INVALID_TXN_STATE: an EndTxn answered with it ends a librdkafka producer (a fatal error). */
const INVALID_TXN_STATE = 48;
/** Kafka's COORDINATOR_LOAD_IN_PROGRESS: both clients retry an InitProducerId answered with it. */
const COORDINATOR_LOAD_IN_PROGRESS = 14;
/** What each engine logs when a producer's initialisation (InitProducerId) failed for good. */
const INIT_FAILED: Readonly<Record<string, RegExp>> = {
  librdkafka: /could not be initialised/,
  kafkajs: /NumberOfRetriesExceeded: The coordinator is loading/,
};

describe('a transaction the broker committed but reported as failed: committed once, not twice', () => {
  const bench = privateBench({ proxy: true });

  for (const engine of SELECTED) {
    test(`${engine}: the commit's answer says it failed; phi-gate finds it committed and goes on`, async (t) => {
      const proxy = bench().broker.proxy as KafkaProxy;
      await withStream(
        bench(),
        `lostc-${engine}`,
        engine,
        {
          total: 600,
          sent: 400,
          env: { PHIGATE_BATCH_MAX_RECORDS: '20' },
        },
        async ({ names, producer, events, brokers, service, life }) => {
          await consumedAtLeast(service, 40);
          const before = proxy.rewritten(API.EndTxn);
          proxy.failResponses(API.EndTxn, UNKNOWN_SERVER_ERROR, 3);
          await producer.send(events.slice(400));
          await assertDelivered(t, names, events, brokers);
          assert.ok(!life.exited, 'phi-gate is still running');
          const garbled = proxy.rewritten(API.EndTxn) - before;
          assert.ok(garbled >= 1, `a commit's answer was garbled (${garbled})`);
          assert.match(service.output, /a transaction reported as failed had committed/);
          const found = await service.counter('phigate_transactions_found_committed_total');
          assert.ok(
            found >= 1 && found <= garbled,
            `found committed: ${found} of ${garbled} garbled answers`,
          );
          t.diagnostic(`${garbled} commit answers garbled; ${JSON.stringify(await evidence(service))}`);
          t.diagnostic(paths(service));
        },
      );
    });

    test(`${engine}: the commit's answer says it failed, then the member's heartbeat fails during the back-off; the batch given up is not committed again`, async (t) => {
      const proxy = bench().broker.proxy as KafkaProxy;
      await withStream(
        bench(),
        `lostb-${engine}`,
        engine,
        {
          total: 600,
          sent: 400,
          // one partition: the only heartbeat sent during the back-off is the retrying batch's own
          partitions: 1,
          // a back-off longer than the heartbeat interval (3 s): the retry sends a heartbeat
          env: {
            PHIGATE_BATCH_MAX_RECORDS: '20',
            PHIGATE_RETRY_INITIAL_MS: '4000',
            PHIGATE_RETRY_MAX_MS: '8000',
          },
        },
        async ({ names, producer, events, brokers, service, life }) => {
          await consumedAtLeast(service, 40);
          const before = {
            endTxn: proxy.rewritten(API.EndTxn),
            beat: proxy.rewritten(API.Heartbeat),
          };
          // kafkajs hands a batch given up unresolved straight back: it must learn what committed first
          proxy.failResponses(API.EndTxn, UNKNOWN_SERVER_ERROR, 1, () =>
            proxy.failResponses(API.Heartbeat, UNKNOWN_SERVER_ERROR, 1),
          );
          await producer.send(events.slice(400));
          await assertDelivered(t, names, events, brokers);
          assert.ok(!life.exited, 'phi-gate is still running');
          const garbled = {
            endTxn: proxy.rewritten(API.EndTxn) - before.endTxn,
            beat: proxy.rewritten(API.Heartbeat) - before.beat,
          };
          assert.equal(garbled.endTxn, 1, 'one commit answer was garbled');
          // librdkafka heart-beats on its own thread, whenever it likes: only kafkajs's heartbeat is the
          // retrying batch's own
          if (engine === 'kafkajs') {
            assert.equal(garbled.beat, 1, 'the heartbeat during the back-off failed');
            assert.match(service.output, /retry given up/, 'the retrying batch was given up');
          }
          // the batch handed back finds the garbled commit committed, and counts it
          assert.equal(await service.counter('phigate_transactions_found_committed_total'), 1);
          t.diagnostic(`garbled ${JSON.stringify(garbled)}; ${JSON.stringify(await evidence(service))}`);
        },
      );
    });

    test(`${engine}: a producer that cannot initialise for a while is replaced again until one can`, async (t) => {
      const proxy = bench().broker.proxy as KafkaProxy;
      await withStream(
        bench(),
        `reinit-${engine}`,
        engine,
        { total: 600, sent: 400, env: { PHIGATE_BATCH_MAX_RECORDS: '20' } },
        async ({ names, producer, events, brokers, service, life }) => {
          await consumedAtLeast(service, 40);
          const before = proxy.rewritten(API.InitProducerId);
          // the commit's answer ends the producer (librdkafka) or its transaction (kafkajs); then every
          // answer to the new producer's InitProducerId says "not yet", until its initialisation fails
          proxy.failResponses(API.EndTxn, INVALID_TXN_STATE, 1, () =>
            proxy.failResponses(API.InitProducerId, COORDINATOR_LOAD_IN_PROGRESS, Number.MAX_SAFE_INTEGER),
          );
          await Service.until(
            async () => INIT_FAILED[engine]?.test(service.output) ?? false,
            90_000,
            'a producer whose initialisation failed',
          );
          proxy.stopFailing(API.InitProducerId);
          await producer.send(events.slice(400));
          await assertDelivered(t, names, events, brokers);
          assert.ok(!life.exited, 'phi-gate is still running');
          t.diagnostic(
            `${proxy.rewritten(API.InitProducerId) - before} InitProducerId answers garbled; ${JSON.stringify(await evidence(service))}`,
          );
        },
      );
    });

    test(`${engine}: a producer replaced while the broker is frozen cannot connect; one replaced after the thaw can`, async (t) => {
      const b = bench().broker;
      const proxy = b.proxy as KafkaProxy;
      await withStream(
        bench(),
        `reconn-${engine}`,
        engine,
        {
          total: 600,
          sent: 400,
          env: {
            PHIGATE_BATCH_MAX_RECORDS: '20',
            KAFKA_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
            KAFKA_CONNECTION_TIMEOUT_MS: String(CONNECTION_TIMEOUT_MS),
          },
        },
        async ({ names, producer, events, brokers, service, life }) => {
          await consumedAtLeast(service, 40);
          // the commit's answer ends the producer (librdkafka) or its transaction (kafkajs), and the
          // broker freezes before the client reads that answer: the new producer cannot connect
          proxy.failResponses(API.EndTxn, INVALID_TXN_STATE, 1, () => b.freeze());
          await Service.until(async () => b.frozen, 30_000, 'the broker frozen at a garbled commit answer');
          await sleep(2 * CONNECTION_TIMEOUT_MS);
          assert.ok(!life.exited, 'phi-gate outlives a frozen broker');
          b.thaw();
          await producer.send(events.slice(400));
          await assertDelivered(t, names, events, brokers);
          assert.ok(!life.exited, 'phi-gate is still running');
          t.diagnostic(`${JSON.stringify(await evidence(service))}; ${paths(service)}`);
        },
      );
    });
  }
});
