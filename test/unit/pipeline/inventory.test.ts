/** The service's data inventory: entries claimed per transaction, written again after an abandoned one or a policy swap. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { InventoryEncoder, InventoryPublisher } from '../../../src/pipeline/inventory.ts';
import type { RegistryClient } from '../../../src/registry/client.ts';
import { policyFrom, SEGMENT_SCHEMA, SEGMENT_TYPE } from '../policy/support.ts';

const POLICY = (extra: string) => `version: 1
reviewedSchemaVersions:
  events.raw-value: 1
destinations:
  ads:
    key: drop
    fields:
      userId: drop
      anonymousId: drop
${extra}`;

/** Version 1 of the subject lacks properties.email (so it is new in version 2, the writer's). */
const V1 = JSON.stringify({
  type: 'record',
  name: 'Old',
  fields: [{ name: 'messageId', type: 'string' }],
});

function setup() {
  const metrics = createMetrics(new Registry(), { defaultMetrics: false });
  const asked: string[] = [];
  const client = {
    register: async () => 7,
    schemaVersions: async (id: number) => {
      asked.push(`versions ${id}`);
      return [
        { subject: 'other-value', version: 1 },
        { subject: 'events.raw-value', version: 2 },
      ];
    },
    subjectSchema: async (subject: string, version: number) => {
      asked.push(`${subject} ${version}`);
      return { id: 1, schema: V1, schemaType: 'AVRO' };
    },
  } as unknown as RegistryClient;
  return { metrics, client, asked };
}

async function publisher() {
  const { metrics, client, asked } = setup();
  const encoder = await InventoryEncoder.create(client, 'events.inventory');
  const p = new InventoryPublisher({
    topic: 'events.inventory',
    encoder,
    client,
    writer: (id) => (id === 11 ? { type: SEGMENT_TYPE, schema: SEGMENT_SCHEMA } : undefined),
    inputSubject: 'events.raw-value',
    metrics,
    logger: pino({ level: 'silent' }),
  });
  return { p, encoder, metrics, asked };
}

describe('InventoryPublisher', () => {
  test('nothing is due before a schema id is noted', async () => {
    const { p } = await publisher();
    const claim = await p.claim(policyFrom(POLICY('')));
    assert.equal(claim.messages.length, 0);
  });

  test('one entry per field path, keyed <id>/<path>, with the subject version of the input subject', async () => {
    const { p, encoder } = await publisher();
    const policy = policyFrom(POLICY(''));
    p.note(11);
    const claim = await p.claim(policy);
    assert.deepEqual(claim.ids, [11]);
    assert.equal(claim.topic, 'events.inventory');
    const keys = claim.messages.map((m) => m.key);
    assert.ok(keys.includes('11/properties.email'));
    assert.equal(new Set(keys).size, keys.length);
    const email = claim.messages.find((m) => m.key === '11/properties.email');
    const entry = encoder.decode(email?.value as Buffer);
    assert.equal(entry.subject, 'events.raw-value');
    assert.equal(entry.version, 2);
    assert.equal(entry.newSinceReview, true);
    assert.equal(entry.destinations.ads?.unreviewed, true);
    assert.equal(entry.policyVersion, policy.version);
  });

  test('claimed once; written once committed; claimed again after an abandoned transaction', async () => {
    const { p } = await publisher();
    const policy = policyFrom(POLICY(''));
    p.note(11);
    const first = await p.claim(policy);
    assert.equal((await p.claim(policy)).messages.length, 0, 'a concurrent batch does not write them too');
    p.abandoned(first);
    const again = await p.claim(policy);
    assert.deepEqual(again.ids, [11]);
    assert.equal(again.messages.length, first.messages.length);
    p.written(again);
    assert.equal((await p.claim(policy)).messages.length, 0);
    p.note(11); // a route compiled again (another destination version): nothing new under this policy
    assert.equal((await p.claim(policy)).messages.length, 0);
  });

  test('a new policy version writes every known id again; the registry is asked once per id and version', async () => {
    const { p, asked } = await publisher();
    p.note(11);
    p.written(await p.claim(policyFrom(POLICY(''))));
    const next = policyFrom(POLICY('      properties.email: drop\n'));
    const claim = await p.claim(next);
    assert.deepEqual(claim.ids, [11]);
    assert.deepEqual(asked, ['versions 11', 'events.raw-value 1']);
  });

  test('the unreviewed gauge follows the latest schema id and is reset by a policy swap', async () => {
    const { p, metrics } = await publisher();
    p.note(11);
    p.written(await p.claim(policyFrom(POLICY(''))));
    const value = async () =>
      (await metrics.inventoryUnreviewed.get()).values.find((v) => v.labels.destination === 'ads')?.value;
    const before = await value();
    assert.ok(before !== undefined && before > 0, 'fields new since version 1 and named by no rule');
    await p.claim(policyFrom(POLICY('      properties.email: drop\n')));
    const after = await value();
    assert.equal(after, (before as number) - 1, 'the named field is reviewed now');
  });
});
