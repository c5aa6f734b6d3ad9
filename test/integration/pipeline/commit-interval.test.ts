/**
 * PHIGATE_COMMIT_INTERVAL_MS on the real broker: a slow stream (an event every 40 ms) through
 * `phi-gate run` with an interval of 500 ms. Transactions start at least that far apart, so over the
 * stream they are few — without an interval each event or two would have its own — and every
 * event still reaches its destination exactly once, what arrived during an interval joining the
 * next transaction instead of waiting for the one after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { consumeAll } from '../../helpers/consume.ts';
import {
  EventProducer,
  type Keys,
  makeKeys,
  pipelineTopics,
  type ServiceTopics,
  segmentEvent,
  writePolicy,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

const INTERVAL_MS = 500;
const EVENTS = 30;
const GAP_MS = 40;

describe('pipeline: the commit interval', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let producer: EventProducer;
  let service: Service;
  let names: ServiceTopics<'mixpanel' | 'ads' | 'warehouse'>;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
    names = await pipelineTopics(topics, 'interval');
    const policyFile = await writePolicy(keys, names);
    producer = new EventProducer(names.input);
    await producer.connect();
    service = await Service.start({
      ...names,
      groupId: uniqueName('interval-group'),
      policyFile,
      env: { PHIGATE_COMMIT_INTERVAL_MS: String(INTERVAL_MS) },
    });
    await service.waitReady();
  });

  after(async () => {
    await service?.stop();
    await producer?.disconnect();
    await topics.cleanup();
  });

  test('a slow stream commits in few transactions, at least the interval apart, and every event once', async () => {
    const before = await service.counter('phigate_transactions_total', { outcome: 'committed' });
    const started = Date.now();
    const events = [];
    for (let i = 0; i < EVENTS; i++) {
      const e = segmentEvent('search', i);
      events.push(e);
      await producer.send([e]);
      await sleep(GAP_MS);
    }
    const delivered = await consumeAll(names.mixpanel, { count: EVENTS, settleMs: 1000 });
    const elapsedMs = Date.now() - started;
    const commits = (await service.counter('phigate_transactions_total', { outcome: 'committed' })) - before;

    const reg = registry();
    const ids = await Promise.all(
      delivered.map(async (r) => (await reg.decode(r.message.value as Buffer)).messageId as string),
    );
    assert.equal(ids.length, EVENTS, 'none lost, none twice');
    assert.deepEqual(
      [...new Set(ids)].sort(),
      events.map((e) => e.messageId).sort(),
      'every event delivered',
    );
    // starts at least INTERVAL_MS apart: within the window, at most one per interval, plus the one
    // that may have begun just before it (the settle time above is in the window too)
    const most = Math.floor(elapsedMs / INTERVAL_MS) + 2;
    assert.ok(commits >= 1, 'the events were committed');
    assert.ok(
      commits <= most,
      `${commits} transactions in ${elapsedMs} ms: at most ${most} with ${INTERVAL_MS} ms between starts`,
    );
    assert.ok(commits < EVENTS / 3, `${commits} transactions for ${EVENTS} events sent ${GAP_MS} ms apart`);
  });
});
