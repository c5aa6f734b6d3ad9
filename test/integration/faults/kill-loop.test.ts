/**
 * A kill -9 loop: two phi-gate instances in one consumer group on the shared stack, one of them
 * killed at a random moment again and again (each restarted at once, under the same instance id, as
 * Kubernetes restarts a container in its pod) while events stream in. Afterwards every destination
 * is read back with read_committed and the lost and duplicated events are counted: both must be 0.
 *
 * The moments and the victims come from a seeded RNG; the seed is printed, and PHIGATE_SOAK_SEED
 * replays a run. PHIGATE_SOAK_KILLS (default 10), PHIGATE_SOAK_ENGINES (default librdkafka) and
 * PHIGATE_SOAK_MAX_GAP_MS (the longest pause between two kills, default 3000) make the longer
 * `make soak` out of the same test.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINES } from '../../../src/kafka/index.ts';
import { consumeAll } from '../../helpers/consume.ts';
import {
  assertKeysRepeated,
  assertTally,
  bookedEvents,
  summary,
  type Tally,
  tally,
} from '../../helpers/exactly-once.ts';
import { EventProducer, type Keys, makeKeys, pipelineTopics, writePolicy } from '../../helpers/pipeline.ts';
import { mulberry32 } from '../../helpers/random.ts';
import { Service, type ServiceOptions } from '../../helpers/service.ts';
import { requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  assert.ok(Number.isInteger(n) && n >= min, `${name} must be an integer >= ${min}, not ${raw}`);
  return n;
}

const KILLS = intFromEnv('PHIGATE_SOAK_KILLS', 10, 1);
const MAX_GAP_MS = intFromEnv('PHIGATE_SOAK_MAX_GAP_MS', 3000, 200);
const MIN_GAP_MS = Math.min(500, MAX_GAP_MS);
const SEED = intFromEnv('PHIGATE_SOAK_SEED', randomInt(2 ** 31), 0);
const SELECTED = (process.env.PHIGATE_SOAK_ENGINES ?? 'librdkafka')
  .split(',')
  .map((e) => e.trim())
  .filter(Boolean);
/** Events produced per 100 ms while the loop runs. */
const EVENTS_PER_TICK = 10;
/** Users the streamed events belong to, in turn: each user's events must keep their order. */
const USERS = 40;
/**
 * After the last kill: the dead member's session (10 s, PHIGATE_SESSION_TIMEOUT_MS below) must expire
 * before the group settles, then the backlog drains.
 */
const DRAIN_MS = 90_000;

describe(`kill -9 loop: ${KILLS} kills of two instances at random moments (seed ${SEED})`, () => {
  const topics = new TestTopics();
  let keys: Keys;

  before(async () => {
    assert.ok(SELECTED.length > 0, 'PHIGATE_SOAK_ENGINES names no engine');
    for (const e of SELECTED) assert.ok((ENGINES as readonly string[]).includes(e), `unknown engine ${e}`);
    await requireStack();
    keys = await makeKeys();
    // the seed is in the suite's name too; printed here so that it shows even when the run hangs
    console.log(`kill-loop: seed ${SEED} (PHIGATE_SOAK_SEED=${SEED} replays it)`);
  });
  after(() => topics.cleanup());

  for (const engine of SELECTED) {
    // a guard against a hang, not the budget: the loop and the drain bound the run themselves
    const timeout = 60_000 + KILLS * (MAX_GAP_MS + 5000) + DRAIN_MS;
    test(`${engine}: lost 0 and duplicated 0 per destination`, { timeout }, async (t) => {
      const started = Date.now();
      const random = mulberry32(SEED); // seeded: a failing run can be replayed
      const names = await pipelineTopics(topics, `killloop-${engine}`, 4);
      const policyFile = await writePolicy(keys, names);
      const producer = new EventProducer(names.input);
      await producer.connect();
      const groupId = uniqueName(`killloop-${engine}-group`);
      const options = (slot: string): ServiceOptions => ({
        ...names,
        groupId,
        policyFile,
        env: {
          PHIGATE_KAFKA_ENGINE: engine,
          PHIGATE_BATCH_MAX_RECORDS: '20',
          // a killed member's partitions move after its session times out: 10 s, not the default 30 s
          PHIGATE_SESSION_TIMEOUT_MS: '10000',
          // a restarted container keeps its pod's name: the same transactional id, so that
          // initialising it aborts the killed incarnation's open transaction at once
          PHIGATE_INSTANCE_ID: `${groupId}-${slot}`,
        },
      });
      const slots = ['a', 'b'];
      const members = await Promise.all(slots.map((s) => Service.start(options(s))));
      const exited = members.map(() => false);
      const watch = (i: number) =>
        void (members[i] as Service).exited().then(() => {
          exited[i] = true;
        });
      for (let i = 0; i < members.length; i++) watch(i);
      const produced: string[] = [];
      let streaming = true;
      const stream = (async () => {
        let n = 0;
        while (streaming) {
          const events = bookedEvents(EVENTS_PER_TICK, n, USERS);
          n += EVENTS_PER_TICK;
          await producer.send(events);
          for (const e of events) produced.push(e.messageId as string);
          await sleep(100);
        }
      })();
      const log: string[] = [];
      let busyKills = 0;
      try {
        // the loop starts once both members process: the first kill lands in a running stream
        for (const m of members)
          await Service.until(
            async () => (await m.counter('phigate_events_consumed_total').catch(() => 0)) > 0,
            45_000,
            'both members processing',
          );
        for (let kill = 1; kill <= KILLS; kill++) {
          await sleep(MIN_GAP_MS + Math.floor(random() * (MAX_GAP_MS - MIN_GAP_MS)));
          const slot = Math.floor(random() * slots.length);
          const victim = members[slot] as Service;
          // consumed by this incarnation so far: 0 means it died before it processed anything
          const consumed = await victim.counter('phigate_events_consumed_total').catch(() => 0);
          if (consumed > 0) busyKills += 1;
          victim.signal('SIGKILL');
          const exit = await victim.exited();
          assert.equal(exit.signal, 'SIGKILL', `kill ${kill}: instance ${slots[slot]} was running`);
          log.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${slots[slot]}(${consumed})`);
          members[slot] = await Service.start(options(slots[slot] as string));
          exited[slot] = false;
          watch(slot);
        }
        streaming = false;
        await stream;
        t.diagnostic(`seed ${SEED}; kills at: ${log.join(' ')}`);
        t.diagnostic(
          `${busyKills} of ${KILLS} kills hit an instance that had processed events; produced ${produced.length}`,
        );
        // most kills land in the rebalance that the one before caused (a dead member holds its
        // partitions until its session expires); at least one must hit a processing instance
        assert.ok(busyKills > 0, 'no kill hit an instance while it processed events');

        // the first read covers the drain; the others find everything there already
        const tallies = [];
        for (const [i, topic] of [names.warehouse, names.mixpanel, names.ads].entries()) {
          tallies.push(await tally(topic, produced, { timeoutMs: i === 0 ? DRAIN_MS : 30_000 }));
        }
        for (const x of tallies) t.diagnostic(summary(x));
        for (const x of tallies) assertTally(x, produced.length);
        assertKeysRepeated(tallies[0] as Tally);
        const dlq = await consumeAll(names.dlq, { count: 1, timeoutMs: 1000 });
        assert.equal(dlq.length, 0, 'nothing dead-lettered');
        for (const [i, m] of members.entries())
          assert.ok(!exited[i], `the last incarnation of ${slots[i]} is still running:\n${m.report(3000)}`);
        t.diagnostic(`duration ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\nseed ${SEED}; kills at: ${log.join(' ')}\n${members
            .map((m, i) => `--- ${slots[i]} (last incarnation) ---\n${m.report(5000)}`)
            .join('\n')}`,
        );
      } finally {
        streaming = false;
        await stream.catch(() => undefined);
        await Promise.all(members.map((m) => m.stop()));
        await producer.disconnect();
      }
    });
  }
});
