import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { OutMessage } from '../../../src/pipeline/records.ts';
import type { StepResult } from '../../../src/pipeline/step.ts';
import { PipelineDriver } from '../../helpers/driver.ts';
import { segmentEvent, type TestEvent } from '../../helpers/pipeline.ts';
import { HK_ENV, segmentDriver } from './support.ts';

const drivers: PipelineDriver[] = [];
after(() => Promise.all(drivers.map((d) => d.close())));

async function track(driver: Promise<PipelineDriver>): Promise<PipelineDriver> {
  const d = await driver;
  drivers.push(d);
  return d;
}

function policyKeys(driver: PipelineDriver): string[] {
  return driver
    .auditEntries()
    .filter((a) => a.entry.kind === 'policy')
    .map((a) => a.key)
    .sort();
}

function eventKeys(driver: PipelineDriver): string[] {
  return driver
    .auditEntries()
    .filter((a) => a.entry.kind === 'event')
    .map((a) => a.key);
}

describe('the batch step: policy audit entries', () => {
  test('one per destination version, in the first transaction, never again', async () => {
    const d = await track(segmentDriver({ maxRecords: 2 }));
    d.pipe(0, [segmentEvent('search', 1), segmentEvent('booked', 2), segmentEvent('page', 3)]);
    assert.equal((await d.run()).committed, 2);
    const expected = d.policy.destinations.map((x) => `policy/${x.name}/${x.version}`).sort();
    assert.deepEqual(policyKeys(d), expected);
    d.pipe(1, [segmentEvent('search', 4)]);
    await d.run();
    assert.deepEqual(policyKeys(d), expected);
  });

  test('an abandoned transaction writes nothing; the next one writes its policy entries and records, once', async () => {
    const d = await track(segmentDriver({ maxRecords: 2 }));
    const events = [segmentEvent('search', 1), segmentEvent('booked', 2), segmentEvent('page', 3)];
    d.pipe(0, events);
    d.abandonNext();
    assert.deepEqual(await d.run(), { committed: 0, abandoned: 1, records: 0 });
    assert.deepEqual(d.written, []);
    assert.equal(d.committedOffset(0), undefined);
    assert.equal(d.pending, 3);

    assert.deepEqual(await d.run(), { committed: 2, abandoned: 0, records: 3 });
    const expected = d.policy.destinations.map((x) => `policy/${x.name}/${x.version}`).sort();
    assert.deepEqual(policyKeys(d), expected);
    const keys = eventKeys(d);
    assert.equal(keys.length, events.length * d.policy.destinations.length);
    assert.equal(new Set(keys).size, keys.length, 'every decision audited once');
    assert.equal(d.committedOffset(0), 3);
  });

  test('outcome and DLQ counts are added once the transaction commits, never for an abandoned one', async () => {
    const d = await track(segmentDriver({ maxRecords: 10 }));
    d.pipe(0, [segmentEvent('search', 1), segmentEvent('booked', 2)]);
    d.pipe(0, [Buffer.from('not a framed record')]);
    const total = async (name: string) =>
      ((await d.registry.getSingleMetricAsString(name)).match(/^\w+\{[^}]*\} \d+$/gm) ?? [])
        .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)))
        .reduce((a, b) => a + b, 0);
    d.abandonNext();
    await d.run();
    assert.equal(await total('phigate_destination_events_total'), 0, 'nothing counted for the aborted batch');
    assert.equal(await total('phigate_dlq_records_total'), 0);
    await d.run();
    assert.equal(await total('phigate_destination_events_total'), 2 * d.policy.destinations.length);
    assert.equal(await total('phigate_dlq_records_total'), 1);
  });

  test('field-action counts are the actions of the audited decisions, per destination and action', async () => {
    const d = await track(segmentDriver({ maxRecords: 7 }));
    const kinds = ['search', 'booked', 'page', 'identify'] as const;
    d.pipe(
      0,
      Array.from({ length: 40 }, (_, i) => segmentEvent(kinds[i % kinds.length] ?? 'page', i)),
    );
    await d.run();
    const expected = new Map<string, number>();
    for (const { entry } of d.auditEntries()) {
      if (entry.kind !== 'event') continue;
      for (const action of Object.values(entry.fields as Record<string, string>)) {
        const label = `${entry.destination}/${action.split(':')[0]}`;
        expected.set(label, (expected.get(label) ?? 0) + 1);
      }
    }
    const counted = new Map<string, number>();
    const text = await d.registry.getSingleMetricAsString('phigate_field_actions_total');
    for (const [, destination, action, n] of text.matchAll(/destination="([^"]+)",action="([^"]+)"\} (\d+)/g))
      counted.set(`${destination}/${action}`, Number(n));
    assert.ok(expected.size > 5, 'the events exercise several actions');
    assert.deepEqual(counted, expected);
  });

  test('a transaction abandoned after the policy entries committed does not bring them back', async () => {
    const d = await track(segmentDriver({ maxRecords: 1 }));
    d.pipe(0, [segmentEvent('search', 1), segmentEvent('booked', 2)]);
    d.pipe(1, [segmentEvent('page', 3)]);
    assert.equal((await d.run()).committed, 3);
    d.pipe(0, [segmentEvent('search', 4)]);
    d.abandonNext();
    assert.deepEqual(await d.run(), { committed: 0, abandoned: 1, records: 0 });
    await d.run();
    assert.equal(policyKeys(d).length, d.policy.destinations.length);
    assert.equal(d.pending, 0);
    const keys = eventKeys(d);
    assert.equal(new Set(keys).size, keys.length);
  });
});

/** Three destinations with no randomness (no encryption): outputs must be byte-identical run to run. */
const DETERMINISTIC_POLICY = `version: 1
audit:
  hashKey: { env: HK }
destinations:
  product:
    topic: events.dest.product
    mode: allowlist
    key: hash
    hashKey: { env: HK }
    fields:
      properties.specialty: allow
      properties.email: hash
      properties.dob: { generalize: birthyear }
  ads:
    topic: events.dest.ads
    mode: allowlist
    events: { allow: ["Appointment Booked"] }
    key: drop
    fields:
      properties.email: { sha256: email }
      properties.revenue: allow
    hashKey: { env: HK }
  lake:
    topic: events.dest.lake
    format: json
    mode: blocklist
    key: keep
    headers: keep
    pii: hash
    hashKey: { env: HK }
`;

describe('the batch step: scheduling', () => {
  // 3,000 events with the test policy (three destinations, encryption) are many milliseconds of work
  const events = Array.from({ length: 3000 }, (_, i) => segmentEvent(i % 2 ? 'search' : 'booked', i));

  test('a long batch gives the event loop turns while it works: the I/O of the engine is not held up', async () => {
    const d = await track(segmentDriver());
    d.pipe(0, events);
    let turns = 0;
    let done = false;
    const tick = () => {
      turns += 1;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const result = await d.step(0, 0, events.length);
    done = true;
    result.abandoned();
    assert.ok(turns >= 2, `the event loop turned ${turns} times during the step`);
  });

  test('runs asked for together end one at a time, in the order they were asked for', async () => {
    const d = await track(segmentDriver());
    d.pipe(0, events);
    const ended: string[] = [];
    const settle = (name: string) => (r: StepResult) => {
      ended.push(name);
      return r;
    };
    const results = await Promise.all([
      d.step(0, 0, events.length).then(settle('long')),
      d.step(0, 0, 1).then(settle('short')),
    ]);
    assert.deepEqual(ended, ['long', 'short']);
    for (const r of results) r.abandoned();
  });
});

describe('the batch step: chunking', () => {
  test('1,000 records with maxRecords 1, 7 and 1000: the same bytes per topic, the same offsets, order per key kept', async () => {
    const kinds = ['search', 'booked', 'rx', 'identify', 'page'] as const;
    const events: TestEvent[] = Array.from({ length: 1000 }, (_, i) =>
      segmentEvent(kinds[i % 5] ?? 'page', i % 37),
    );
    const perPartition = [0, 1, 2].map((p) => events.filter((_, i) => (i % 37) % 3 === p).length);
    const outputs: Map<string, readonly OutMessage[]>[] = [];
    const offsets: (number | undefined)[][] = [];
    for (const maxRecords of [1, 7, 1000]) {
      const d = await track(
        PipelineDriver.create({
          policy: DETERMINISTIC_POLICY,
          env: HK_ENV,
          maxRecords,
          partitions: { 'events.dest.ads': 2 },
        }),
      );
      await d.registerInput();
      // three partitions, a user always on the same one (as a keyed producer writes them); a few dead letters
      for (const [i, e] of events.entries()) {
        const partition = (i % 37) % 3;
        d.pipe(partition, [i % 101 === 0 ? Buffer.from([9, 9]) : e], {
          key: `${e.userId}`,
          headers: { seq: String(i) },
        });
      }
      const summary = await d.run();
      assert.equal(summary.records, 1000);
      const transactions = perPartition.reduce((n, count) => n + Math.ceil(count / maxRecords), 0);
      assert.equal(summary.committed, transactions, 'one transaction per chunk of each partition');
      outputs.push(new Map(d.written.map((t) => [t, d.read(t)])));
      offsets.push([0, 1, 2].map((p) => d.committedOffset(p)));
    }
    const [one, seven, all] = outputs as [
      Map<string, readonly OutMessage[]>,
      Map<string, readonly OutMessage[]>,
      Map<string, readonly OutMessage[]>,
    ];
    assert.deepEqual(offsets[1], offsets[0]);
    assert.deepEqual(offsets[2], offsets[0]);
    assert.equal(
      offsets[0]?.reduce((n, o) => (n ?? 0) + (o ?? 0), 0),
      1000,
    );
    assert.deepEqual([...one.keys()].sort(), [
      'events.audit',
      'events.dest.ads',
      'events.dest.lake',
      'events.dest.product',
      'events.dlq',
    ]);
    assert.deepEqual([...seven.keys()].sort(), [...one.keys()].sort());
    assert.deepEqual([...all.keys()].sort(), [...one.keys()].sort());
    for (const topic of one.keys()) {
      // the policy entries ride in the first transaction, wherever it ends: compared apart
      const split = (m: Map<string, readonly OutMessage[]>) => {
        const list = m.get(topic) ?? [];
        const isPolicy = (x: OutMessage) => String(x.key).startsWith('policy/');
        return { records: list.filter((x) => !isPolicy(x)), policy: list.filter(isPolicy) };
      };
      const base = split(one);
      assert.ok(base.records.length > 0, topic);
      for (const other of [seven, all]) {
        const o = split(other);
        assert.deepEqual(
          o.records,
          base.records,
          `${topic}: the same records, byte for byte, in the same order`,
        );
        assert.deepEqual(
          o.policy.map((x) => [x.key, x.value]).sort(),
          base.policy.map((x) => [x.key, x.value]).sort(),
        );
      }
    }
    // order per key: the lake (key: keep) holds each user's records in input order
    const seqByKey = new Map<string, number[]>();
    for (const m of one.get('events.dest.lake') ?? []) {
      const key = String(m.key);
      const seq = Number(m.headers?.seq);
      const list = seqByKey.get(key) ?? [];
      assert.ok(list.length === 0 || (list.at(-1) ?? -1) < seq, `${key}: out of order`);
      list.push(seq);
      seqByKey.set(key, list);
    }
    assert.equal(seqByKey.size, 37);
  });
});
