import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { AuditEncoder } from '../../../src/pipeline/audit.ts';
import type { Decision } from '../../../src/policy/index.ts';
import type { RegistryClient } from '../../../src/registry/client.ts';
import { compileType } from '../../../src/registry/schemas.ts';

const client = { register: async () => 42 } as unknown as RegistryClient;
const type = compileType(JSON.parse(AuditEncoder.readSchema()));
const source = { topic: 'events.raw', partition: 2, offset: '12345678901' };

function decision(fields: Record<string, string>): Decision {
  return {
    destination: 'warehouse',
    policyVersion: 'a2bf7abbb41c7d25',
    outcome: 'delivered',
    eventType: 'track',
    eventName: 'Provider Search',
    fields,
    kids: ['k-2026-01'],
    errorCode: null,
  };
}

describe('AuditEncoder', () => {
  it('an audit entry of a plan decision never holds a map key (made-up name and diagnosis)', async () => {
    const { destinationFrom, SEGMENT_TYPE, segment } = await import('../policy/support.ts');
    const audit = await AuditEncoder.create(client, 'events.audit');
    for (const rule of ['allow', 'drop', 'hash']) {
      const plan = destinationFrom(
        `    fields: { properties.extras.*: ${rule}, properties.extras.utm_source: allow }\n`,
      ).compile(SEGMENT_TYPE);
      const keys = ['Rosalind Pettigrew - HIV positive', 'utm_source', 'ssn'];
      const r = plan.apply(
        segment({ properties: { extras: Object.fromEntries(keys.map((k) => [k, 'x'])) } }),
      );
      const message = audit.event(r.decision, 'msg-1', source, null, 1_767_225_600_000);
      const bytes = (message.value as Buffer).toString('latin1');
      assert.doesNotMatch(bytes, /Rosalind|Pettigrew|HIV/, rule);
      assert.match(bytes, /properties\.extras\.\*/, rule);
      assert.match(bytes, /properties\.extras\.utm_source/, rule); // a key the policy names is policy text
    }
  });

  it('writes exactly what avsc writes for the whole entry, whether the fields map is cached or not', async () => {
    const audit = await AuditEncoder.create(client, 'events.audit');
    const shared = Object.freeze({ 'properties.mrn': 'encrypt', userId: 'hmac-sha256' });
    const cases = [
      decision(shared),
      decision(shared), // the cached map encoding
      decision({ 'context.ip': 'generalize:ipv4-24' }), // not frozen: never cached
      decision(Object.freeze({})),
      decision(Object.freeze({ ['x'.repeat(70_000)]: 'drop' })), // larger than the scratch space
    ];
    for (const [i, d] of cases.entries()) {
      const pseudonym = i % 2 === 0 ? 'p-1' : null;
      const message = audit.event(d, `msg-${i}`, source, pseudonym, 1_767_225_600_000 + i);
      const expected = type.toBuffer({
        formatVersion: 1,
        kind: 'event',
        destination: d.destination,
        outcome: d.outcome,
        messageId: `msg-${i}`,
        eventType: d.eventType,
        eventName: d.eventName,
        policyVersion: d.policyVersion,
        fields: d.fields,
        keyIds: d.kids,
        errorCode: d.errorCode,
        sourceTopic: source.topic,
        sourcePartition: source.partition,
        sourceOffset: Number(source.offset),
        processedAt: 1_767_225_600_000 + i,
        userPseudonym: pseudonym,
      });
      assert.deepEqual(message.value, Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), expected]), `case ${i}`);
    }
  });

  it('decisions that share a frozen fields object but differ elsewhere each get their own bytes', async () => {
    const audit = await AuditEncoder.create(client, 'events.audit');
    const shared = Object.freeze({}); // as plans share their empty fields across destinations
    const base = decision(shared);
    const kids = Object.freeze(['k-2026-02']);
    const cases: Decision[] = [
      base,
      { ...base, eventName: 'Order Completed' },
      { ...base, eventType: 'identify', eventName: null },
      { ...base, destination: 'mixpanel' },
      { ...base, outcome: 'filtered', kids: [] },
      { ...base, policyVersion: '0000000000000000' },
      { ...base, kids },
      { ...base, outcome: 'failed_closed', errorCode: 'PHIGATE_ERR_ACTION' },
      ...Array.from({ length: 20 }, (_, i) => ({ ...base, eventName: `Event ${i}` })), // past the kept shapes
      base, // a kept shape again
      { ...base, eventName: 'Order Completed' },
    ];
    for (const [i, d] of cases.entries()) {
      const message = audit.event(d, `m-${i}`, source, null, i);
      const entry = type.fromBuffer((message.value as Buffer).subarray(5)) as Record<string, unknown>;
      assert.equal(message.key, `${d.destination}/m-${i}`);
      assert.deepEqual(
        { ...entry, fields: { ...(entry.fields as object) } },
        {
          formatVersion: 1,
          kind: 'event',
          destination: d.destination,
          outcome: d.outcome,
          messageId: `m-${i}`,
          eventType: d.eventType,
          eventName: d.eventName,
          policyVersion: d.policyVersion,
          fields: {},
          keyIds: [...d.kids],
          errorCode: d.errorCode,
          sourceTopic: source.topic,
          sourcePartition: source.partition,
          sourceOffset: Number(source.offset),
          processedAt: i,
          userPseudonym: null,
        },
        `case ${i}`,
      );
    }
  });

  it('an entry that does not fit the rest of the output slab is written whole on a new one', async () => {
    const audit = await AuditEncoder.create(client, 'events.audit');
    const d = decision(Object.freeze({ 'properties.mrn': 'encrypt' }));
    const long = `m-${'x'.repeat(300_000)}`; // a few of these fill a slab
    for (let i = 0; i < 8; i++) {
      const message = audit.event(d, long, source, 'p', i);
      const entry = type.fromBuffer((message.value as Buffer).subarray(5)) as Record<string, unknown>;
      assert.equal(entry.messageId, long);
      assert.equal(entry.processedAt, i);
    }
  });

  it('a frozen fields object is encoded once', async () => {
    const audit = await AuditEncoder.create(client, 'events.audit');
    const shared = Object.freeze({ 'properties.mrn': 'encrypt' });
    const a = audit.event(decision(shared), 'm', source, null, 1);
    const b = audit.event(decision(shared), 'm', source, null, 1);
    assert.deepEqual(a.value, b.value);
    assert.notEqual(a.value, b.value); // each record owns its buffer
  });

  it('filtered_consent: a decision the consent gate filtered is encoded with the reason in fields', async () => {
    const audit = await AuditEncoder.create(client, 'events.audit');
    const d: Decision = {
      ...decision(Object.freeze({ 'context.consent.categoryPreferences.Advertising': 'consent:denied' })),
      outcome: 'filtered_consent',
      kids: [],
    };
    const message = audit.event(d, 'm-1', source, null, 1);
    const entry = type.fromBuffer((message.value as Buffer).subarray(5)) as Record<string, unknown>;
    assert.equal(entry.outcome, 'filtered_consent');
    assert.deepEqual(entry.fields, { 'context.consent.categoryPreferences.Advertising': 'consent:denied' });
  });

  it('the outcome enum only grows at its end (symbol indexes are the wire format)', () => {
    const schema = JSON.parse(AuditEncoder.readSchema());
    const outcome = schema.fields.find((f: { name: string }) => f.name === 'outcome').type;
    assert.deepEqual(outcome.symbols, [
      'delivered',
      'filtered',
      'failed_closed',
      'dead_lettered',
      'policy_applied',
      'filtered_consent',
    ]);
  });

  it('stays BACKWARD compatible: entries written with the schema before filtered_consent still read', () => {
    const before = JSON.parse(AuditEncoder.readSchema());
    const outcome = before.fields.find((f: { name: string }) => f.name === 'outcome').type;
    outcome.symbols = outcome.symbols.filter((s: string) => s !== 'filtered_consent');
    const old = avro.Type.forSchema(before);
    const written = old.toBuffer({
      formatVersion: 1,
      kind: 'event',
      destination: 'warehouse',
      outcome: 'policy_applied',
      fields: {},
      keyIds: [],
      processedAt: 1,
    });
    const read = type.fromBuffer(written, type.createResolver(old)) as Record<string, unknown>;
    assert.equal(read.outcome, 'policy_applied');
  });
});
