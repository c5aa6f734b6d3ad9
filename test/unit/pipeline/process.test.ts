import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MAX_RECORD_BYTES } from '../../../src/pipeline/records.ts';
import type { PipelineDriver } from '../../helpers/driver.ts';
import { CANARY, containsCanary, segmentEvent } from '../../helpers/pipeline.ts';
import { DEST, headerText, segmentDriver } from './support.ts';

const drivers: PipelineDriver[] = [];
after(() => Promise.all(drivers.map((d) => d.close())));

async function driver(options: Parameters<typeof segmentDriver>[0] = {}): Promise<PipelineDriver> {
  const d = await segmentDriver(options);
  drivers.push(d);
  return d;
}

const KINDS = ['search', 'booked', 'rx', 'identify', 'page'] as const;
const HEX64 = /^[0-9a-f]{64}$/;

describe('processing through the batch step', () => {
  test('each destination gets what its policy allows, and no PHI canary reaches any of them', async () => {
    const d = await driver();
    const events = KINDS.map((kind, i) => segmentEvent(kind, i));
    d.pipe(0, events, { headers: { 'x-trace': 'trace-1' } });
    await d.run();

    const names = (dest: string) => d.values(dest).map((v) => v.event ?? v.type);
    assert.deepEqual(names('mixpanel'), ['Provider Search', 'Appointment Booked', 'identify', 'page']);
    assert.deepEqual(names('ads'), ['Appointment Booked']);
    assert.deepEqual(names('warehouse'), [
      'Provider Search',
      'Appointment Booked',
      'Prescription Filled',
      'identify',
      'page',
    ]);

    const [search] = d.values('mixpanel') as { properties: Record<string, unknown> }[];
    assert.equal(search?.properties.specialty, 'cardiology');
    assert.equal(search?.properties.dob, '1984');
    assert.equal(search?.properties.zip, '941');
    assert.match(String(search?.properties.email), HEX64);
    assert.equal(search?.properties.firstname, undefined, 'not on the allowlist: not in the derived schema');
    const [booked] = d.values('ads') as { properties: Record<string, unknown> }[];
    assert.equal(booked?.properties.revenue, 120.5);
    assert.match(String(booked?.properties.email), HEX64);

    for (const topic of Object.values(DEST)) {
      for (const m of d.read(topic)) {
        // the warehouse keeps the record key (`key: keep`): the made-up user id is its policy's choice
        const key = topic === DEST.warehouse ? null : m.key;
        const leaked = containsCanary(key, m.value, ...Object.values(m.headers ?? {}));
        assert.equal(leaked, null, `${topic}: a canary leaked`);
      }
    }
    // the audit names fields and actions, never a value
    for (const m of d.read(d.topics.audit)) assert.equal(containsCanary(m.value), null);
    // the DLQ is the one place raw PHI goes: here nothing was dead-lettered
    assert.deepEqual(d.deadLetters(), []);
    // the input held the canaries: the test would catch a leak
    assert.ok(containsCanary(d.encode(events[0])));
  });

  test('a kept key is the input key, a hashed one its HMAC; a keyless record goes to inputPartition % partitions', async () => {
    const d = await driver({ partitions: { [DEST.ads]: 3 } });
    for (let p = 0; p < 5; p++) d.pipe(p, [segmentEvent('booked', p)]);
    await d.run();

    assert.deepEqual(
      d.read(DEST.ads).map((m) => [m.key, m.partition]),
      [
        [null, 0],
        [null, 1],
        [null, 2],
        [null, 0],
        [null, 1],
      ],
    );
    const users = [0, 1, 2, 3, 4].map((p) => `${CANARY.userId}-${p}`);
    assert.deepEqual(
      d.read(DEST.warehouse).map((m) => [String(m.key), m.partition]),
      users.map((u) => [u, undefined]),
      'key: keep: placed by its key, as the producer placed the input',
    );
    const hashed = d.read(DEST.mixpanel).map((m) => String(m.key));
    for (const k of hashed) assert.match(k, HEX64);
    assert.equal(new Set(hashed).size, users.length);
    assert.deepEqual(
      d.read(DEST.mixpanel).map((m) => m.partition),
      users.map(() => undefined),
    );
  });

  test('headers: kept where the policy keeps them, dropped elsewhere', async () => {
    const d = await driver();
    d.pipe(0, [segmentEvent('booked', 1)], {
      headers: { 'x-trace': 'trace-7', 'x-bin': Buffer.from([1, 2]) },
    });
    await d.run();
    const [warehouse] = d.read(DEST.warehouse);
    assert.deepEqual(headerText(warehouse?.headers), { 'x-trace': 'trace-7', 'x-bin': '\u0001\u0002' });
    assert.equal(d.read(DEST.mixpanel)[0]?.headers, undefined);
    assert.equal(d.read(DEST.ads)[0]?.headers, undefined);
  });

  test('a sanitized record above MAX_RECORD_BYTES fails closed (PHIGATE_ERR_RECORD_TOO_LARGE); its neighbours go on', async () => {
    const d = await driver();
    const huge = segmentEvent('search', 1);
    const query = 'cardiologist near me '.repeat(Math.ceil(MAX_RECORD_BYTES / 20));
    d.pipe(0, [{ ...huge, properties: { ...(huge.properties as object), searchQuery: query } }]);
    d.pipe(0, [segmentEvent('search', 2)]);
    assert.equal((await d.run()).committed, 1);

    const decisions = d
      .auditEntries()
      .filter((a) => a.entry.kind === 'event')
      .map((a) => [a.entry.sourceOffset, a.entry.destination, a.entry.outcome, a.entry.errorCode]);
    assert.deepEqual(decisions, [
      [0, 'ads', 'filtered', null],
      [0, 'mixpanel', 'failed_closed', 'PHIGATE_ERR_RECORD_TOO_LARGE'],
      [0, 'warehouse', 'failed_closed', 'PHIGATE_ERR_RECORD_TOO_LARGE'],
      [1, 'ads', 'filtered', null],
      [1, 'mixpanel', 'delivered', null],
      [1, 'warehouse', 'delivered', null],
    ]);
    assert.equal(d.read(DEST.mixpanel).length, 1);
    for (const m of d.read(DEST.mixpanel)) assert.ok((m.value?.length ?? 0) <= MAX_RECORD_BYTES);
    assert.equal(d.committedOffset(0), 2);
  });
});
