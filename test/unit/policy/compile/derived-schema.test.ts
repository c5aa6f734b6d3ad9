/** The derived schema: golden shape, optional fields, names, and BACKWARD compatibility as policy and input evolve. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type avro from 'avsc';
import type { Destination } from '../../../../src/policy/types.ts';
import {
  deliver,
  destinationFrom,
  FIXTURES,
  policyFrom,
  SEGMENT_SCHEMA,
  SEGMENT_TYPE,
  typeOf,
} from '../support.ts';

interface RecordSchema {
  type: 'record';
  name: string;
  fields: { name: string; type: unknown; default?: unknown }[];
}

const GOLDEN_POLICY = `    fields:
      properties.specialty: allow
      properties.dob: { generalize: year }
      properties.email: hash
      "properties.items[].sku": allow
      properties.extras.*: allow
      traits.address.postalCode: { generalize: zip3 }
      context.page.url: { url: { keepQuery: [utm_source] } }
`;

/** Calls `visit` for every record schema inside `s`. */
function records(s: unknown, visit: (r: RecordSchema) => void): void {
  if (Array.isArray(s)) for (const b of s) records(b, visit);
  else if (s !== null && typeof s === 'object') {
    const o = s as Record<string, unknown>;
    if (o.type === 'record') {
      visit(o as unknown as RecordSchema);
      for (const f of (o as unknown as RecordSchema).fields) records(f.type, visit);
    }
    if (o.items !== undefined) records(o.items, visit);
    if (o.values !== undefined) records(o.values, visit);
  }
}

describe('derived schema', () => {
  test('golden: Segment schema × an allowlist policy', () => {
    const plan = destinationFrom(GOLDEN_POLICY).compile(SEGMENT_TYPE, { writerSchema: SEGMENT_SCHEMA });
    const golden = JSON.parse(readFileSync(join(FIXTURES, 'derived-segment-allowlist.avsc.json'), 'utf8'));
    assert.deepEqual(plan.schema, golden);
  });

  test('deterministic for (writer schema, destination version)', () => {
    const a = destinationFrom(GOLDEN_POLICY).compile(SEGMENT_TYPE, { writerSchema: SEGMENT_SCHEMA });
    const b = destinationFrom(GOLDEN_POLICY).compile(typeOf(SEGMENT_SCHEMA), {
      writerSchema: SEGMENT_SCHEMA,
    });
    assert.equal(JSON.stringify(a.schema), JSON.stringify(b.schema));
  });

  test('every field of every derived record is ["null", …] with default null, never a double null', () => {
    for (const body of [GOLDEN_POLICY, '    mode: blocklist\n    pii: hash\n']) {
      const plan = destinationFrom(body).compile(SEGMENT_TYPE);
      let seen = 0;
      records(plan.schema, (r) => {
        for (const f of r.fields) {
          seen++;
          assert.ok(Array.isArray(f.type) && f.type[0] === 'null', `${r.name}.${f.name}`);
          assert.equal((f.type as unknown[]).filter((t) => t === 'null').length, 1, `${r.name}.${f.name}`);
          assert.equal(f.default, null);
        }
      });
      assert.ok(seen > 10);
    }
  });

  test('a nullable union with null second is reordered, not doubled', () => {
    const t = typeOf({
      type: 'record',
      name: 'R',
      fields: [{ name: 'x', type: ['string', 'null'], default: 'none' }],
    });
    const plan = destinationFrom('    fields: { x: allow }\n').compile(t);
    assert.deepEqual((plan.schema as RecordSchema).fields, [
      { name: 'x', type: ['null', 'string'], default: null },
    ]);
  });

  test('a named type reused at two paths gets a derived name per path', () => {
    const addr = {
      type: 'record',
      name: 'Addr',
      fields: [
        { name: 'city', type: 'string' },
        { name: 'state', type: 'string' },
      ],
    };
    const t = typeOf({
      type: 'record',
      name: 'R',
      namespace: 'ex',
      fields: [
        { name: 'home', type: addr },
        { name: 'work', type: 'Addr' },
      ],
    });
    const plan = destinationFrom('    fields: { home.state: allow, work: allow }\n').compile(t);
    const s = plan.schema as RecordSchema;
    const home = s.fields[0]?.type as [string, RecordSchema];
    const work = s.fields[1]?.type as [string, RecordSchema];
    assert.equal(home[1].name, 'phigate.d.home_Addr');
    assert.deepEqual(
      home[1].fields.map((f) => f.name),
      ['state'],
    );
    assert.equal(work[1].name, 'phigate.d.work_Addr');
    assert.deepEqual(
      work[1].fields.map((f) => f.name),
      ['state'], // city hits the `city` matcher (pii: drop) even under `work: allow`
    );
  });

  test('enums and fixed pass as they are; a repeated enum is referenced by name', () => {
    const e = { type: 'enum', name: 'Level', symbols: ['LOW', 'HIGH'] };
    const t = typeOf({
      type: 'record',
      name: 'R',
      namespace: 'ex',
      fields: [
        { name: 'a', type: e },
        { name: 'b', type: 'Level' },
        { name: 'h', type: { type: 'fixed', name: 'H', size: 4 } },
      ],
    });
    const plan = destinationFrom('    mode: blocklist\n').compile(t);
    const f = (plan.schema as RecordSchema).fields;
    assert.deepEqual(f[0]?.type, ['null', { type: 'enum', name: 'ex.Level', symbols: ['LOW', 'HIGH'] }]);
    assert.deepEqual(f[1]?.type, ['null', 'ex.Level']);
    assert.deepEqual(f[2]?.type, ['null', { type: 'fixed', name: 'ex.H', size: 4 }]);
    deliver(plan, t.clone({ a: 'LOW', b: 'HIGH', h: Buffer.from('abcd') }));
  });

  test('namespace phigate.<destination>, made a valid Avro name', () => {
    const policy = policyFrom(
      'version: 1\ndestinations:\n  google-ads: { key: drop, fields: { userId: drop, anonymousId: drop } }\n',
    );
    const plan = (policy.destinations[0] as Destination).compile(SEGMENT_TYPE);
    assert.equal((plan.schema as RecordSchema).name, 'phigate.google_ads.SegmentEvent');
  });

  test('logical types survive when the writer schema JSON is given', () => {
    const plan = destinationFrom('').compile(SEGMENT_TYPE, { writerSchema: SEGMENT_SCHEMA });
    const ts = (plan.schema as RecordSchema).fields.find((f) => f.name === 'timestamp');
    assert.deepEqual(ts?.type, ['null', { type: 'long', logicalType: 'timestamp-millis' }]);
  });
});

describe('evolution stays BACKWARD compatible', () => {
  const v1Schema = SEGMENT_SCHEMA as RecordSchema;
  // Input v2: a new top-level record and a new property appear.
  const v2Schema = structuredClone(v1Schema);
  v2Schema.fields.push({
    name: 'consent',
    type: [
      'null',
      {
        type: 'record',
        name: 'Consent',
        fields: [
          { name: 'marketing', type: 'boolean' },
          { name: 'ssn', type: ['null', 'string'], default: null },
        ],
      },
    ],
    default: null,
  });
  const props = v2Schema.fields.find((f) => f.name === 'properties')?.type as [string, RecordSchema];
  props[1].fields.push({ name: 'insuranceProvider', type: ['null', 'string'], default: null });
  const v1Type = SEGMENT_TYPE;
  const v2Type = typeOf(v2Schema);

  const policyV1 =
    '    fields: { properties.specialty: allow, properties.providerId: allow, context.page.title: allow }\n';
  // Policy v2 stops sending providerId and starts sending the page path.
  const policyV2 =
    '    fields: { properties.specialty: allow, context.page.title: allow, context.page.path: allow }\n';

  function derived(body: string, type: avro.Type): avro.Type {
    return destinationFrom(body).compile(type).type;
  }

  for (const mode of ['allowlist', 'blocklist']) {
    const m = `    mode: ${mode}\n`;
    test(`${mode}: input v2 (new fields), same policy`, () => {
      const d1 = derived(m + policyV1, v1Type);
      const d2 = derived(m + policyV1, v2Type);
      assert.doesNotThrow(() => d2.createResolver(d1));
    });
    test(`${mode}: policy v2 (a field dropped, another added), same input`, () => {
      const d1 = derived(m + policyV1, v1Type);
      const d2 = derived(m + policyV2, v1Type);
      assert.doesNotThrow(() => d2.createResolver(d1));
    });
    test(`${mode}: both evolve at once`, () => {
      const d1 = derived(m + policyV1, v1Type);
      const d2 = derived(m + policyV2, v2Type);
      assert.doesNotThrow(() => d2.createResolver(d1));
      // The round trip works: data written with v1 reads with v2.
      const written = d1.toBuffer(d1.clone({ messageId: 'm', properties: { specialty: 'cardiology' } }));
      assert.equal(d2.fromBuffer(written, d2.createResolver(d1)).properties.specialty, 'cardiology');
    });
  }

  test('allowlist: a field new in the input never appears in the output', () => {
    const plan = destinationFrom(policyV1).compile(v2Type);
    assert.equal(JSON.stringify(plan.schema).includes('consent'), false);
    assert.equal(JSON.stringify(plan.schema).includes('insuranceProvider'), false);
  });
});
