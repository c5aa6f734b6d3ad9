/**
 * The data inventory of the running service on the real broker and registry: after the first
 * events of a writer schema, the compacted inventory topic holds one entry per (schema id, field
 * path), with the registry's subject and version; after the input schema evolves, the new schema
 * id's entries mark the added field new since the reviewed version and unreviewed, and
 * phigate_inventory_unreviewed_fields counts it. No entry holds a value.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { consumeAll, type Received } from '../../helpers/consume.ts';
import {
  containsCanary,
  EventProducer,
  type Keys,
  makeKeys,
  SEGMENT_SCHEMA,
  type ServiceTopics,
  segmentEvent,
  serviceTopics,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

describe('pipeline: the data inventory topic', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let producer: EventProducer;
  let service: Service;
  let names: ServiceTopics<'mixpanel'>;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
    names = await serviceTopics(topics, 'inventory', ['mixpanel']);
    const { input } = names;
    const policyFile = join(keys.dir, 'inventory-policy.yaml');
    await writeFile(
      policyFile,
      `version: 1
audit:
  hashKey: { file: ${keys.dir}/audit.hmac }
reviewedSchemaVersions:
  ${input}-value: 1
destinations:
  mixpanel:
    topic: ${names.mixpanel}
    fields:
      properties.specialty: allow
      properties.email: hash
    hashKey: { file: ${keys.dir}/mixpanel.hmac }
`,
    );
    producer = new EventProducer(names.input);
    await producer.connect();
    service = await Service.start({ ...names, groupId: uniqueName('inventory-group'), policyFile });
    await service.waitReady();
  });

  after(async () => {
    await service?.stop();
    await producer?.disconnect();
    await topics.cleanup();
  });

  async function entriesOf(records: Received[], schemaId: number) {
    const reg = registry();
    const out = new Map<string, Record<string, any>>();
    for (const r of records) {
      const key = r.message.key?.toString() ?? '';
      if (!key.startsWith(`${schemaId}/`)) continue;
      assert.equal(containsCanary(r.message.value), null, `a value in the inventory entry ${key}`);
      out.set(key, await reg.decode(r.message.value as Buffer));
    }
    return out;
  }

  test('entries per (schema id, path) on first compile; an evolved schema marks its new field unreviewed', async () => {
    const v1 = producer.schemaId;
    await producer.send([segmentEvent('search', 1), segmentEvent('search', 2)]);
    await consumeAll(names.mixpanel, { count: 2 });
    const first = await entriesOf(await consumeAll(names.inventory, { count: 20, settleMs: 500 }), v1);
    const email = first.get(`${v1}/properties.email`);
    assert.ok(email, `an entry for properties.email (keys: ${[...first.keys()].slice(0, 5).join(', ')})`);
    assert.equal(email.subject, `${names.input}-value`);
    assert.equal(email.version, 1);
    assert.equal(email.newSinceReview, false);
    assert.equal(email.destinations.mixpanel.action, 'hash');
    assert.equal(email.destinations.mixpanel.rule, 'explicit');
    assert.equal(
      await service.counter('phigate_inventory_unreviewed_fields', { destination: 'mixpanel' }),
      0,
    );

    const evolved = JSON.parse(await readFile(SEGMENT_SCHEMA, 'utf8'));
    evolved.fields.push({ name: 'referralCode', type: ['null', 'string'], default: null });
    await producer.useSchema(JSON.stringify(evolved));
    const v2 = producer.schemaId;
    assert.notEqual(v2, v1);
    await producer.send([{ ...segmentEvent('search', 3), referralCode: 'REF-1' }]);
    await consumeAll(names.mixpanel, { count: 3 });
    const all = await consumeAll(names.inventory, { count: first.size * 2 + 1, settleMs: 500 });
    const second = await entriesOf(all, v2);
    const added = second.get(`${v2}/referralCode`);
    assert.ok(added, 'an entry for the added field');
    assert.equal(added.version, 2);
    assert.equal(added.newSinceReview, true);
    assert.equal(added.destinations.mixpanel.unreviewed, true);
    assert.equal(added.destinations.mixpanel.action, 'drop');
    assert.equal(second.get(`${v2}/properties.email`)?.newSinceReview, false);
    assert.ok((await entriesOf(all, v1)).size === first.size, 'the first schema is not written twice');
    await Service.until(
      async () =>
        (await service.counter('phigate_inventory_unreviewed_fields', { destination: 'mixpanel' })) === 1,
      10_000,
      'the unreviewed gauge',
    );
  });
});
