import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { unframe } from '../../../src/pipeline/wire.ts';
import { valueSubject } from '../../../src/registry/schemas.ts';
import { PipelineDriver, SEGMENT_SCHEMA_FILE } from '../../helpers/driver.ts';
import { segmentEvent } from '../../helpers/pipeline.ts';
import { DEST, HK_ENV, segmentDriver } from './support.ts';

const drivers: PipelineDriver[] = [];
after(() => Promise.all(drivers.map((d) => d.close())));

async function track<T extends PipelineDriver>(driver: Promise<T>): Promise<T> {
  const d = await driver;
  drivers.push(d);
  return d;
}

function registrationsOf(driver: PipelineDriver, topic: string): number[] {
  return driver.store.registrations.filter((r) => r.subject === valueSubject(topic)).map((r) => r.id);
}

/** The Segment schema with one more optional top-level field: a compatible evolution. */
async function evolvedSegment(): Promise<object> {
  const schema = JSON.parse(await readFile(SEGMENT_SCHEMA_FILE, 'utf8'));
  schema.fields.push({ name: 'channel', type: ['null', 'string'], default: null });
  return schema;
}

describe('routes through the batch step', () => {
  test('a derived schema is registered once per (writer schema id, destination version), not per record or batch', async () => {
    const driver = await track(segmentDriver({ maxRecords: 10 }));
    const events = Array.from({ length: 60 }, (_, i) => segmentEvent(i % 2 ? 'search' : 'booked', i));
    driver.pipe(0, events.slice(0, 30));
    driver.pipe(1, events.slice(30));
    assert.equal((await driver.run()).committed, 6);
    for (const topic of Object.values(DEST)) assert.equal(registrationsOf(driver, topic).length, 1, topic);

    // a second writer schema: one more route per destination; the warehouse (blocklist) keeps the
    // new field, so its derived schema is new; the allowlists derive the same text as before, which
    // DerivedSchemas already holds
    await driver.registerInput(await evolvedSegment());
    driver.pipe(0, [{ ...segmentEvent('booked', 100), channel: 'web' }, segmentEvent('booked', 101)]);
    await driver.run();
    const warehouse = registrationsOf(driver, DEST.warehouse);
    assert.equal(warehouse.length, 2);
    assert.notEqual(warehouse[0], warehouse[1]);
    assert.deepEqual(driver.store.versions(valueSubject(DEST.warehouse)), warehouse);
    for (const topic of [DEST.mixpanel, DEST.ads])
      assert.equal(registrationsOf(driver, topic).length, 1, topic);

    // each record is framed with the derived schema of its own writer schema
    const written = driver.read(DEST.warehouse);
    const ids = written.map((m) => unframe(m.value as Buffer).schemaId);
    assert.deepEqual(new Set(ids.slice(0, 60)), new Set([warehouse[0]]));
    assert.deepEqual(ids.slice(60), [warehouse[1], warehouse[1]]);
    assert.deepEqual(
      driver
        .values('warehouse')
        .slice(60)
        .map((v) => v.channel),
      ['web', null],
    );
  });

  test('a JSON destination gets natural JSON, unframed, and registers nothing', async () => {
    const driver = await track(
      PipelineDriver.create({
        env: HK_ENV,
        policy: `version: 1
destinations:
  product:
    topic: events.dest.product
    format: json
    mode: allowlist
    key: hash
    hashKey: { env: HK }
    fields:
      properties.specialty: allow
      properties.revenue: allow
`,
      }),
    );
    await driver.registerInput();
    driver.pipe(0, [segmentEvent('booked', 1)]);
    await driver.run();
    const [m] = driver.read('events.dest.product');
    assert.equal(m?.value?.[0], '{'.charCodeAt(0), 'no wire-format header');
    const value = driver.values('product')[0];
    assert.equal(value?.event, 'Appointment Booked');
    assert.deepEqual(value?.properties, { specialty: 'dermatology', revenue: 120.5 });
    assert.deepEqual(registrationsOf(driver, 'events.dest.product'), []);
  });

  test('a writer schema a destination cannot plan: failed_closed PHIGATE_ERR_PLAN for it, the others go on', async () => {
    const driver = await track(
      PipelineDriver.create({
        env: HK_ENV,
        policy: `version: 1
destinations:
  analytics:
    topic: events.dest.analytics
    mode: allowlist
    hashKey: { env: HK }
    fields:
      properties.specialty: allow
  archive:
    topic: events.dest.archive
    mode: blocklist
    hashKey: { env: HK }
    detectors: off
`,
      }),
    );
    // a bare string cannot be planned by an allowlist: there is no field to allow (a record with no
    // field allowed still plans, as an empty record); the blocklist passes it on
    await driver.registerInput('"string"');
    driver.pipe(0, [driver.encode('made-up text one'), driver.encode('made-up text two')]);
    assert.equal((await driver.run()).committed, 1);
    const decisions = driver
      .auditEntries()
      .filter((a) => a.entry.kind === 'event')
      .map((a) => [a.entry.destination, a.entry.outcome, a.entry.errorCode]);
    assert.deepEqual(decisions, [
      ['analytics', 'failed_closed', 'PHIGATE_ERR_PLAN'],
      ['archive', 'delivered', null],
      ['analytics', 'failed_closed', 'PHIGATE_ERR_PLAN'],
      ['archive', 'delivered', null],
    ]);
    assert.deepEqual(driver.read('events.dest.analytics'), []);
    assert.deepEqual(registrationsOf(driver, 'events.dest.analytics'), []);
    assert.deepEqual(driver.values('archive'), ['made-up text one', 'made-up text two']);
    const failed = await driver.metrics.failClosed.get();
    assert.deepEqual(
      failed.values.map((v) => [v.labels.destination, v.labels.code, v.value]),
      [['analytics', 'PHIGATE_ERR_PLAN', 2]],
    );
  });
});
