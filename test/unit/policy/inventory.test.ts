/** The data inventory: paths, types, classifications and per-destination decisions, read off the plans. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  fieldPaths,
  type InventoryEntry,
  inventoryKey,
  inventoryOf,
  suggestedRule,
  unreviewedCounts,
} from '../../../src/policy/inventory.ts';
import { allStrings, policyFrom, ROOT, SEGMENT_SCHEMA, SEGMENT_TYPE, segment, typeOf } from './support.ts';

const POLICY = `version: 1
matchers:
  custom:
    - name: loyalty_card
      keys: [loyaltyCard]
reviewedSchemaVersions:
  events.raw-value: 1
destinations:
  ads:
    key: drop
    fields:
      userId: drop
      anonymousId: drop
      traits.email: { sha256: email }
  wh:
    mode: blocklist
    hashKey: { env: HK }
    fields:
      context.library: allow
      "properties.items[].sku": hash
      properties.extras.*: allow
`;

function byPath(entries: readonly InventoryEntry[]): Map<string, InventoryEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

describe('inventoryOf: the Segment schema', () => {
  const policy = policyFrom(POLICY);
  const entries = inventoryOf(policy, { type: SEGMENT_TYPE, schema: SEGMENT_SCHEMA });
  const at = byPath(entries);
  const get = (path: string): InventoryEntry => {
    const e = at.get(path);
    assert.ok(e, `no entry for ${path}; have ${[...at.keys()].join(', ')}`);
    return e;
  };

  test('one entry per leaf path, in schema order, in policy pattern syntax', () => {
    const paths = entries.map((e) => e.path);
    assert.equal(paths[0], 'messageId');
    for (const p of [
      'properties.items[].sku',
      'properties.extras.*',
      'traits.address.postalCode',
      'context.consent.categoryPreferences.*',
    ])
      assert.ok(paths.includes(p), p);
    assert.equal(new Set(paths).size, paths.length);
    assert.ok(
      !paths.includes('properties') && !paths.includes('properties.items'),
      'containers have no entry',
    );
  });

  test('Avro types keep unions and logical types', () => {
    assert.equal(get('messageId').avroType, 'string');
    assert.equal(get('event').avroType, 'null|string');
    assert.equal(get('timestamp').avroType, 'long(timestamp-millis)');
    assert.equal(get('sentAt').avroType, 'null|long(timestamp-millis)');
    assert.equal(get('type').avroType, 'enum dev.phigate.example.CallType');
    assert.equal(get('context.consent.categoryPreferences.*').avroType, 'boolean');
  });

  test('classification: which matcher, built-in or the policy’s own', () => {
    assert.deepEqual(get('properties.email').classification, { matcher: 'email', source: 'builtin' });
    assert.deepEqual(get('traits.address.postalCode').classification, { matcher: 'zip', source: 'builtin' });
    assert.equal(get('properties.specialty').classification, null);
    assert.equal(get('properties.extras.*').classification, null); // map keys are data
    const custom = policyFrom(POLICY.replace('[loyaltyCard]', '[specialty]'));
    const e = byPath(inventoryOf(custom, { type: SEGMENT_TYPE })).get('properties.specialty');
    assert.deepEqual(e?.classification, { matcher: 'loyalty_card', source: 'custom' });
  });

  test('per destination: the action and what decided it', () => {
    const cell = (path: string, d: string) => get(path).destinations[d];
    assert.deepEqual(cell('messageId', 'ads'), {
      action: 'allow',
      rule: 'envelope',
      rulePath: null,
      unreviewed: false,
    });
    assert.deepEqual(cell('userId', 'wh'), {
      action: 'hash',
      rule: 'envelope',
      rulePath: null,
      unreviewed: false,
    });
    assert.deepEqual(cell('userId', 'ads'), {
      action: 'drop',
      rule: 'explicit',
      rulePath: 'userId',
      unreviewed: false,
    });
    assert.equal(cell('traits.email', 'ads')?.action, 'sha256:email');
    assert.deepEqual(cell('properties.email', 'ads'), {
      action: 'drop',
      rule: 'pii',
      rulePath: null,
      unreviewed: false,
    });
    assert.deepEqual(cell('properties.specialty', 'ads'), {
      action: 'drop',
      rule: 'mode',
      rulePath: null,
      unreviewed: false,
    });
    assert.deepEqual(cell('properties.specialty', 'wh'), {
      action: 'allow',
      rule: 'mode',
      rulePath: null,
      unreviewed: false,
    });
    assert.equal(cell('properties.items[].sku', 'wh')?.action, 'hash');
    // Inherited from an ancestor's rule: rulePath names that rule.
    assert.deepEqual(cell('context.library.version', 'wh'), {
      action: 'allow',
      rule: 'explicit',
      rulePath: 'context.library',
      unreviewed: false,
    });
    // ...but a matcher on the field itself still wins (precedence as in the plan).
    assert.equal(cell('context.library.name', 'wh')?.rule, 'pii');
    assert.deepEqual(cell('properties.extras.*', 'wh'), {
      action: 'allow',
      rule: 'explicit',
      rulePath: 'properties.extras.*',
      unreviewed: false,
    });
  });

  test('it says what the plan does: delivered decisions agree with the inventory', () => {
    const plan = policy.destinations
      .find((d) => d.name === 'wh')
      ?.compile(SEGMENT_TYPE, {
        writerSchema: SEGMENT_SCHEMA,
      });
    assert.ok(plan);
    const r = plan.apply(
      segment({ properties: { specialty: 'x', email: 'a@example.com', items: [{ sku: 's' }] } }),
    );
    assert.equal(r.outcome, 'delivered');
    for (const path of ['properties.specialty', 'properties.email', 'properties.items[].sku', 'userId'])
      assert.equal(r.decision.fields[path], get(path).destinations.wh?.action, path);
  });

  test('serializable, stable, value-free; keyed <schema id>/<path>', () => {
    const again = inventoryOf(policyFrom(POLICY), { type: typeOf(SEGMENT_SCHEMA), schema: SEGMENT_SCHEMA });
    assert.equal(JSON.stringify(again), JSON.stringify(entries));
    assert.deepEqual(JSON.parse(JSON.stringify(entries)), entries);
    const e = get('properties.email');
    assert.deepEqual(Object.keys(e.destinations), ['ads', 'wh']);
    assert.equal(e.schemaId, null);
    assert.equal(e.newSinceReview, null);
    assert.equal(e.policyVersion, policy.version);
    assert.equal(inventoryKey(e), 'local/properties.email');
    const registered = inventoryOf(policy, { type: SEGMENT_TYPE, schemaId: 17, subject: 's', version: 3 });
    assert.equal(inventoryKey(registered[0] as InventoryEntry), '17/messageId');
    // Nothing in an entry is a value (only names from the schema and the policy).
    const strings = new Set(allStrings(entries));
    assert.ok(!strings.has('a@example.com'));
  });

  test('every entry is valid for schemas/inventory-entry.avsc (the events.inventory value) and round-trips', () => {
    const type = typeOf(JSON.parse(readFileSync(join(ROOT, 'schemas', 'inventory-entry.avsc'), 'utf8')));
    const registered = inventoryOf(
      policy,
      { type: SEGMENT_TYPE, schemaId: 17, subject: 's', version: 3 },
      {
        version: 2,
        paths: new Set(['messageId']),
      },
    );
    for (const e of [...entries, ...registered]) {
      assert.ok(type.isValid(e), e.path);
      assert.deepEqual(
        JSON.parse(JSON.stringify(type.fromBuffer(type.toBuffer(e)))),
        JSON.parse(JSON.stringify(e)),
      );
    }
  });
});

describe('inventoryOf: nested maps, arrays and unions', () => {
  const schema = {
    type: 'record',
    name: 'Visit',
    fields: [
      { name: 'messageId', type: 'string' },
      {
        name: 'vitals',
        type: {
          type: 'map',
          values: {
            type: 'record',
            name: 'Vital',
            fields: [
              { name: 'value', type: 'double' },
              { name: 'unit', type: 'string' },
            ],
          },
        },
      },
      { name: 'tags', type: { type: 'array', items: { type: 'array', items: 'string' } } },
      { name: 'emails', type: { type: 'array', items: 'string' } },
      {
        name: 'contact',
        type: [
          'null',
          'string',
          {
            type: 'record',
            name: 'Contact',
            fields: [{ name: 'phone', type: ['null', 'string'], default: null }],
          },
        ],
      },
      {
        name: 'payer',
        type: [
          { type: 'record', name: 'Insurer', fields: [{ name: 'insuranceId', type: 'string' }] },
          { type: 'record', name: 'SelfPay', fields: [{ name: 'card', type: 'string' }] },
        ],
      },
      { name: 'attrs', type: { type: 'map', values: { type: 'map', values: ['null', 'int', 'string'] } } },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['a', 'b'] } },
      { name: 'checksum', type: { type: 'fixed', name: 'Md5', size: 16 } },
    ],
  };
  const type = typeOf(schema);
  const policy = policyFrom(`version: 1
destinations:
  d:
    key: drop
    hashKey: { env: HK }
    fields:
      vitals.*.unit: allow
      "tags[][]": allow
      emails: hash
      contact: allow
`);
  const entries = inventoryOf(policy, { type, schema });
  const at = byPath(entries);

  test('paths through maps (.*), arrays ([]) and unions, with their types', () => {
    assert.deepEqual(
      entries.map((e) => [e.path, e.avroType]),
      [
        ['messageId', 'string'],
        ['vitals.*.value', 'double'],
        ['vitals.*.unit', 'string'],
        ['tags[][]', 'string'],
        ['emails[]', 'string'],
        ['contact', 'null|string|record Contact'],
        ['contact.phone', 'null|string'],
        ['payer.insuranceId', 'string'],
        ['payer.card', 'string'],
        ['attrs.*.*', 'null|int|string'],
        ['kind', 'enum Kind'],
        ['checksum', 'fixed(16) Md5'],
      ],
    );
  });

  test('decisions and classifications at each of them', () => {
    const cell = (p: string) => at.get(p)?.destinations.d;
    assert.equal(cell('vitals.*.unit')?.action, 'allow');
    assert.equal(cell('vitals.*.value')?.rule, 'mode');
    assert.equal(cell('tags[][]')?.rulePath, 'tags[][]');
    assert.deepEqual(cell('emails[]'), {
      action: 'hash',
      rule: 'explicit',
      rulePath: 'emails',
      unreviewed: false,
    });
    assert.deepEqual(at.get('emails[]')?.classification, { matcher: 'email', source: 'builtin' });
    assert.equal(cell('contact')?.action, 'allow');
    // The phone inside an allowed union branch: its matcher decides.
    assert.deepEqual(cell('contact.phone'), {
      action: 'drop',
      rule: 'pii',
      rulePath: null,
      unreviewed: false,
    });
    assert.equal(cell('payer.insuranceId')?.rule, 'pii');
    assert.equal(cell('attrs.*.*')?.rule, 'mode');
  });

  test('a destination that cannot plan the schema: failed_closed cells', () => {
    const recursive = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'label', type: 'string' },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    };
    const out = inventoryOf(policy, { type: typeOf(recursive), schema: recursive });
    assert.deepEqual(
      out.map((e) => e.path),
      ['label'],
    );
    assert.deepEqual(out[0]?.destinations.d, {
      action: 'failed_closed',
      rule: 'plan',
      rulePath: null,
      unreviewed: false,
    });
  });
});

describe('unreviewed fields', () => {
  const v1 = SEGMENT_SCHEMA as { fields: { name: string; type: unknown; default?: unknown }[] };
  const v2 = structuredClone(v1);
  const props = v2.fields.find((f) => f.name === 'properties')?.type as [string, typeof v1];
  props[1].fields.push(
    { name: 'referralCode', type: ['null', 'string'], default: null },
    { name: 'patientEmail', type: ['null', 'string'], default: null },
    { name: 'visitTags', type: { type: 'array', items: 'string' }, default: [] },
  );
  const policy = policyFrom(
    POLICY.replace('  ads:', '  ads:\n    mode: allowlist').replace(
      '      traits.email: { sha256: email }',
      '      traits.email: { sha256: email }\n      properties.visitTags: drop',
    ),
  );
  const baseline = { version: 1, paths: fieldPaths(typeOf(v1), v1) };
  const entries = inventoryOf(
    policy,
    { type: typeOf(v2), schema: v2, schemaId: 42, subject: 'events.raw-value', version: 2 },
    baseline,
  );
  const at = byPath(entries);

  test('a field new since the reviewed version that no rule names is unreviewed, per destination', () => {
    const e = at.get('properties.referralCode');
    assert.equal(e?.newSinceReview, true);
    assert.equal(e?.destinations.ads?.unreviewed, true);
    assert.equal(e?.destinations.wh?.unreviewed, true); // blocklist: it would pass — the case that matters most
    assert.equal(at.get('properties.specialty')?.newSinceReview, false);
    assert.equal(at.get('properties.specialty')?.destinations.wh?.unreviewed, false);
  });

  test('a rule naming the field (or its array) reviews it for that destination only', () => {
    const tags = at.get('properties.visitTags[]');
    assert.equal(tags?.newSinceReview, true);
    assert.equal(tags?.destinations.ads?.unreviewed, false);
    assert.equal(tags?.destinations.wh?.unreviewed, true);
  });

  test('counts per destination, and suggested rules: hash where a matcher flags it, else drop', () => {
    assert.deepEqual(
      [...unreviewedCounts(policy, entries)],
      [
        ['ads', 2],
        ['wh', 3],
      ],
    );
    assert.deepEqual(suggestedRule(at.get('properties.referralCode') as InventoryEntry), {
      path: 'properties.referralCode',
      rule: 'drop',
    });
    assert.deepEqual(suggestedRule(at.get('properties.patientEmail') as InventoryEntry), {
      path: 'properties.patientEmail',
      rule: 'hash',
    });
    assert.deepEqual(suggestedRule(at.get('properties.visitTags[]') as InventoryEntry), {
      path: 'properties.visitTags',
      rule: 'drop',
    });
  });

  test('nothing is unreviewed in the reviewed version itself, or without a baseline', () => {
    const same = inventoryOf(
      policy,
      { type: typeOf(v2), schema: v2, subject: 'events.raw-value', version: 1 },
      baseline,
    );
    assert.ok(same.every((e) => e.newSinceReview === false));
    const none = inventoryOf(policy, {
      type: typeOf(v2),
      schema: v2,
      subject: 'events.raw-value',
      version: 2,
    });
    assert.ok(
      none.every(
        (e) => e.newSinceReview === null && Object.values(e.destinations).every((c) => !c.unreviewed),
      ),
    );
  });

  test('reviewedSchemaVersions: review metadata, not behaviour — the policy version ignores it', () => {
    assert.equal(policy.reviewedSchemaVersion('events.raw-value'), 1);
    assert.equal(policy.reviewedSchemaVersion('other-value'), null);
    const moved = policyFrom(POLICY.replace('events.raw-value: 1', 'events.raw-value: 2'));
    assert.equal(moved.version, policyFrom(POLICY).version);
  });
});
