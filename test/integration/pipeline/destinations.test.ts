/**
 * End to end on the real broker and registry: `phi-gate run` with a three-destination policy
 * (allowlist analytics, allowlist ad platform, blocklist warehouse with encryption). Destination
 * topics are read back with read_committed and decoded by the registry client — a standard Confluent
 * Avro deserializer using only the schema id in each message.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { compactDecrypt } from 'jose';
import { consumeAll, type Received } from '../../helpers/consume.ts';
import {
  CANARY,
  containsCanary,
  EventProducer,
  type Keys,
  makeKeys,
  pipelineTopics,
  SEGMENT_SCHEMA,
  segmentEvent,
  writePolicy,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

const hex = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest('hex');
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

async function decodeAll(
  records: Received[],
): Promise<Array<{ key: Buffer | null; value: Record<string, any> }>> {
  const reg = registry();
  return Promise.all(
    records.map(async (r) => ({ key: r.message.key, value: await reg.decode(r.message.value as Buffer) })),
  );
}

function byMessageId<T extends { value: Record<string, any> }>(items: T[]): Map<string, T> {
  return new Map(items.map((i) => [i.value.messageId as string, i]));
}

describe('pipeline: events.raw → three destinations + audit + DLQ', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let names: Awaited<ReturnType<typeof pipelineTopics>>;
  let producer: EventProducer;
  let service: Service;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
    names = await pipelineTopics(topics, 'e2e');
    const policyFile = await writePolicy(keys, names);
    producer = new EventProducer(names.input);
    await producer.connect();
    service = await Service.start({ ...names, groupId: uniqueName('e2e-group'), policyFile });
    await service.waitReady();
  });

  after(async () => {
    await service?.stop();
    await producer?.disconnect();
    await topics.cleanup();
  });

  const events = [
    segmentEvent('search', 1),
    segmentEvent('search', 2),
    segmentEvent('booked', 1),
    segmentEvent('booked', 3),
    segmentEvent('rx', 1),
    segmentEvent('identify', 4),
    segmentEvent('page', 5),
  ];

  test('each destination receives what its policy allows, and no PHI canary', async () => {
    await producer.send(events);
    const [mixpanel, ads, warehouse] = await Promise.all([
      consumeAll(names.mixpanel, { count: 6, settleMs: 500 }),
      consumeAll(names.ads, { count: 2, settleMs: 500 }),
      consumeAll(names.warehouse, { count: 7, settleMs: 500 }),
    ]);
    assert.equal(mixpanel.length, 6, 'mixpanel: every event but the dropped "Prescription Filled"');
    assert.equal(ads.length, 2, 'ads: only "Appointment Booked"');
    assert.equal(warehouse.length, 7, 'warehouse: every event');

    for (const r of [...mixpanel, ...ads]) {
      assert.equal(containsCanary(r.message.key, r.message.value), null, `canary leaked to ${r.topic}`);
    }
    for (const r of warehouse)
      assert.equal(containsCanary(r.message.value), null, 'canary leaked to warehouse');

    const mp = byMessageId(await decodeAll(mixpanel));
    const search = mp.get(events[0]?.messageId as string);
    assert.ok(search, 'the first search event reached mixpanel');
    assert.equal(
      search.key?.toString(),
      hex(keys.hmac.mixpanel, events[0]?.userId as string),
      'record key is HMAC of the raw key',
    );
    assert.equal(
      search.value.userId,
      hex(keys.hmac.mixpanel, events[0]?.userId as string),
      'userId hashed by default',
    );
    assert.equal(search.value.event, 'Provider Search');
    assert.equal(search.value.properties.specialty, 'cardiology');
    assert.equal(search.value.properties.dob, '1984', 'dob generalized to the year');
    assert.equal(search.value.properties.zip, '941', 'zip generalized to zip3');
    assert.equal(search.value.properties.email, hex(keys.hmac.mixpanel, CANARY.email));
    assert.equal(search.value.properties.firstname, undefined, 'unlisted field is not in the derived schema');
    assert.deepEqual(
      search.value.properties.items.map((i: { sku: string }) => i.sku),
      ['SKU-1'],
    );
    const page = mp.get(events[6]?.messageId as string);
    assert.equal(page?.value.context.page.url, 'https://clinic.example/?utm_source=news');

    const ad = byMessageId(await decodeAll(ads));
    const booked = ad.get(events[2]?.messageId as string);
    assert.ok(booked);
    assert.equal(booked.key, null, 'ads drops the record key');
    assert.equal(booked.value.traits.email, sha256(CANARY.email.trim().toLowerCase()));
    assert.equal(booked.value.properties.revenue, 120.5);

    const wh = byMessageId(await decodeAll(warehouse));
    const rx = wh.get(events[4]?.messageId as string);
    assert.ok(rx, 'the warehouse receives the prescription event');
    assert.equal(rx.key?.toString(), events[4]?.userId, 'warehouse keeps the key');
    const privateKey = createPrivateKey(await readFile(keys.privateKeyPath));
    for (const [field, expected] of [
      ['mrn', CANARY.mrn],
      ['diagnosis', CANARY.diagnosis],
      ['notes', CANARY.notes],
    ] as const) {
      const jwe = rx.value.properties[field] as string;
      assert.equal(jwe.split('.').length, 5, `${field} is a JWE compact serialization`);
      const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey);
      assert.equal(new TextDecoder().decode(plaintext), expected);
      assert.equal(protectedHeader.kid, keys.kid);
    }
  });

  test('audit: one entry per event × destination, keyed <destination>/<messageId>, compacted, no PHI', async () => {
    const audit = await consumeAll(names.audit, { count: events.length * 3 + 3, settleMs: 500 });
    const entries = audit.filter((r) => !r.message.key?.toString().startsWith('policy/'));
    const policyEntries = audit.filter((r) => r.message.key?.toString().startsWith('policy/'));
    assert.equal(entries.length, events.length * 3);
    assert.equal(policyEntries.length, 3, 'the policy version of each destination is audited once');
    const keysSeen = new Set(entries.map((r) => r.message.key?.toString()));
    assert.equal(keysSeen.size, entries.length, 'audit keys are unique per fact');
    for (const e of events) {
      for (const d of ['mixpanel', 'ads', 'warehouse'])
        assert.ok(keysSeen.has(`${d}/${e.messageId}`), `audit ${d}/${e.messageId}`);
    }
    for (const r of audit)
      assert.equal(containsCanary(r.message.key, r.message.value), null, 'canary in the audit topic');

    const decoded = await decodeAll(entries);
    const rxMixpanel = decoded.find((d) => d.key?.toString() === `mixpanel/${events[4]?.messageId}`);
    assert.equal(rxMixpanel?.value.outcome, 'filtered');
    const searchMixpanel = decoded.find((d) => d.key?.toString() === `mixpanel/${events[0]?.messageId}`);
    assert.equal(searchMixpanel?.value.outcome, 'delivered');
    assert.equal(searchMixpanel?.value.fields['properties.email'], 'hash');
    assert.equal(searchMixpanel?.value.fields['properties.dob'], 'generalize:birthyear');
    assert.equal(searchMixpanel?.value.sourceTopic, names.input);
    assert.equal(searchMixpanel?.value.userPseudonym, hex(keys.hmac.audit, events[0]?.userId as string));
    const rxWarehouse = decoded.find((d) => d.key?.toString() === `warehouse/${events[4]?.messageId}`);
    assert.ok(rxWarehouse?.value.keyIds.includes(keys.kid), 'the kid used is audited');

    const { resources } = await topics.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: names.audit, configNames: ['cleanup.policy'] }],
    });
    assert.equal(resources[0]?.configEntries[0]?.configValue, 'compact');
  });

  test('undecodable records go to the DLQ with a reason, untouched; the stream goes on', async () => {
    const garbage = Buffer.from('not avro at all');
    const truncated = Buffer.from([0, 0]);
    const unknownId = Buffer.concat([
      Buffer.from([0]),
      Buffer.from([0x7f, 0xff, 0xff, 0x00]),
      Buffer.from([2, 3]),
    ]);
    await producer.sendRaw([
      { key: 'bad-1', value: garbage },
      { key: 'bad-2', value: truncated },
      { key: 'bad-3', value: unknownId },
    ]);
    const after = segmentEvent('booked', 9);
    await producer.send([after]);

    const dlq = await consumeAll(names.dlq, { count: 3, settleMs: 300 });
    assert.equal(dlq.length, 3);
    const byKey = new Map(dlq.map((r) => [r.message.key?.toString(), r.message]));
    assert.deepEqual(byKey.get('bad-1')?.value, garbage, 'raw bytes kept as they were');
    assert.equal(byKey.get('bad-1')?.headers?.['phigate.error.code']?.toString(), 'PHIGATE_ERR_BAD_MAGIC');
    assert.equal(byKey.get('bad-2')?.headers?.['phigate.error.code']?.toString(), 'PHIGATE_ERR_TRUNCATED');
    assert.equal(
      byKey.get('bad-3')?.headers?.['phigate.error.code']?.toString(),
      'PHIGATE_ERR_UNKNOWN_SCHEMA',
    );
    assert.equal(byKey.get('bad-3')?.headers?.['phigate.source.topic']?.toString(), names.input);
    assert.ok(byKey.get('bad-3')?.headers?.['phigate.error.reason']?.toString().length);

    const warehouse = await consumeAll(names.warehouse, { count: events.length + 1 });
    const ids = (await decodeAll(warehouse)).map((d) => d.value.messageId);
    assert.ok(ids.includes(after.messageId), 'a valid event after the bad ones is delivered');
    assert.equal(await service.counter('phigate_dlq_records_total'), 3);
  });

  test('a new PHI field in an evolved input schema leaks nowhere', async () => {
    const schema = JSON.parse(await readFile(SEGMENT_SCHEMA, 'utf8'));
    schema.fields.push({ name: 'ssn', type: ['null', 'string'], default: null });
    schema.fields.push({ name: 'insuranceId', type: ['null', 'string'], default: null });
    await producer.useSchema(JSON.stringify(schema));
    const evolved = [
      { ...segmentEvent('search', 11), ssn: '123-45-6789', insuranceId: 'INS-CANARY-4242' },
      { ...segmentEvent('booked', 12), ssn: '123-45-6789', insuranceId: 'INS-CANARY-4242' },
    ];
    await producer.send(evolved);
    const [mixpanel, ads, warehouse] = await Promise.all([
      // earlier tests delivered 6 + 1 to mixpanel, 2 + 1 to ads, 7 + 1 to the warehouse
      consumeAll(names.mixpanel, { count: 9 }),
      consumeAll(names.ads, { count: 4 }),
      consumeAll(names.warehouse, { count: events.length + 3 }),
    ]);
    for (const r of [...mixpanel, ...ads, ...warehouse]) {
      const text = r.message.value?.toString('latin1') ?? '';
      assert.ok(
        !text.includes('123-45-6789') && !text.includes('INS-CANARY-4242'),
        `new PHI field leaked to ${r.topic}`,
      );
    }
    const mp = byMessageId(await decodeAll(mixpanel));
    const first = mp.get(evolved[0]?.messageId as string);
    assert.ok(first, 'the evolved event reached mixpanel');
    assert.equal(first.value.ssn, undefined, 'allowlist: the new field is not in the derived schema');
    const wh = byMessageId(await decodeAll(warehouse));
    const inWarehouse = wh.get(evolved[0]?.messageId as string);
    assert.equal(
      inWarehouse?.value.ssn.split('.').length,
      5,
      'blocklist: the matcher flags ssn and pii: encrypt applies',
    );
  });
});
