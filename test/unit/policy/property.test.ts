/**
 * Property tests: PHI canaries never reach an allowlist destination — in any field the policy names
 * as PII, in free text it allows, and in fields it has never seen (random writer schemas with random
 * extra fields, nested records, maps, arrays and unions). Every output is valid for the plan's type.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type avro from 'avsc';
import fc from 'fast-check';
import type { AvroNode } from '../../../src/policy/compile/env.ts';
import { loadPolicy } from '../../../src/policy/index.ts';
import type { Destination, Plan } from '../../../src/policy/types.ts';
import { mulberry32 } from '../../helpers/random.ts';
import { destinationFrom, ROOT, SEGMENT_SCHEMA, SEGMENT_TYPE, segment, typeOf } from './support.ts';

const CANARY = 'CANARY';
const NUMBER_CANARY_MIN = 31_337_000;
const NUMBER_CANARY_MAX = 31_338_000;

/** Fails when any string contains the canary or any number is a canary number (walks the natural JSON). */
function assertNoCanary(value: unknown, where: string): void {
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      assert.ok(
        !v.includes(CANARY) && !v.toLowerCase().includes('canary'),
        `canary leaked at ${where}:${path}: ${v}`,
      );
    } else if (typeof v === 'number') {
      assert.ok(
        !(v >= NUMBER_CANARY_MIN && v < NUMBER_CANARY_MAX),
        `numeric canary leaked at ${where}:${path}`,
      );
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        assert.ok(!k.includes(CANARY), `canary leaked in a key at ${where}:${path}`);
        walk(x, `${path}.${k}`);
      }
    }
  };
  walk(value, '');
}

function applyAndCheck(plan: Plan, record: unknown, where: string): void {
  const r = plan.apply(record);
  assert.notEqual(
    r.outcome,
    'failed_closed',
    `${where}: ${r.outcome === 'failed_closed' ? r.error.message : ''}`,
  );
  if (r.outcome !== 'delivered') return;
  assert.ok(plan.type.isValid(r.value), `${where}: output not valid for the derived type`);
  assertNoCanary(JSON.parse(plan.toJson(r.value)), where);
  assert.ok(
    !plan.type.toBuffer(r.value).toString('latin1').includes(CANARY),
    `${where}: canary in the encoded bytes`,
  );
  assertNoCanary(r.decision, `${where} (decision)`);
}

// ---- canary values ---------------------------------------------------------------------------

/** Free text with PII a value detector must find, around a canary token. */
const detectableText = fc
  .tuple(
    fc.constantFrom(
      'canary.jane@example.com',
      'CANARY@example.org',
      '900-12-3456',
      '(617) 555-0142',
      '4111 1111 1111 1111',
      'M-20260112',
    ),
    fc.constantFrom('call ', 'note: ', '', 'see '),
  )
  .map(([pii, prefix]) => `${prefix}${pii}`);

/** A canary string whose PII must not pass: the matchers/default-deny have to stop it. */
const canaryString = fc.integer({ min: 0, max: 999 }).map((n) => `${CANARY}-${n}`);

// ---- random Segment events through the example policy -------------------------------------------

const PII_EXTRA_KEYS = [
  'ssn',
  'email',
  'patient_name',
  'dob',
  'insurance_id',
  'memberId',
  'phone_number',
  'home_address',
  'MRN',
];

const segmentEvent = fc.record({
  event: fc.constantFrom('Provider Search', 'Appointment Booked', 'Prescription Filled', 'Account Created'),
  type: fc.constantFrom('track', 'page', 'identify'),
  email: canaryString,
  first: canaryString,
  last: canaryString,
  mrn: canaryString,
  diagnosis: canaryString,
  notes: canaryString,
  query: detectableText,
  ip: fc.constantFrom('203.0.113.57', '2001:db8::1'),
  dob: fc.constantFrom('1984-07-02', '19840702'),
  piiKey: fc.constantFrom(...PII_EXTRA_KEYS),
  piiValue: canaryString,
  device: canaryString,
  street: canaryString,
  member: canaryString,
});

describe('canaries never reach an allowlist destination', () => {
  test('random Segment events through the example policy (mixpanel, google-ads)', async () => {
    const policy = await loadPolicy(join(ROOT, 'deploy', 'examples', 'policy.yaml'), { env: {} });
    const allowlist = policy.destinations.filter((d) => d.name !== 'warehouse');
    const plans = allowlist.map(
      (d) => [d.name, d.compile(SEGMENT_TYPE, { writerSchema: SEGMENT_SCHEMA })] as const,
    );
    fc.assert(
      fc.property(segmentEvent, (e) => {
        const record = segment({
          type: e.type,
          event: e.event,
          name: 'Find a Doctor',
          userId: `${CANARY}-user`,
          anonymousId: `${CANARY}-anon`,
          properties: {
            specialty: 'cardiology',
            searchQuery: e.query,
            email: e.email,
            firstname: e.first,
            lastname: e.last,
            mrn: e.mrn,
            diagnosis: e.diagnosis,
            notes: e.notes,
            dob: e.dob,
            zip: '02139',
            items: [{ sku: 'visit-30', name: e.notes, price: 31_337_001, quantity: 1 }],
            extras: { visit_type: 'video', [e.piiKey]: e.piiValue },
          },
          traits: {
            email: e.email,
            phone: '+1 617 555 0142',
            firstName: e.first,
            lastName: e.last,
            birthday: e.dob,
            memberId: e.member,
            address: { street: e.street, city: e.street, state: 'MA', postalCode: '02139' },
          },
          context: {
            ip: e.ip,
            device: { id: e.device, advertisingId: e.device },
            page: { title: 'Find a doctor', path: `/p/${e.mrn}` },
            // consented, so google-ads (which requires Advertising) is exercised too
            consent: { categoryPreferences: { Advertising: true, Analytics: true } },
          },
        });
        for (const [name, plan] of plans) applyAndCheck(plan, record, name);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- random writer schemas with fields the policy has never seen --------------------------------

type SchemaNode = string | Record<string, unknown> | SchemaNode[];
const FIELD_NAMES = [
  'alpha',
  'beta',
  'gamma',
  'note',
  'value',
  'code',
  'misc',
  'label',
  'email',
  'ssn',
  'zipCode',
  'dob',
  'ip',
];

const { node: schemaNode } = fc.letrec<{
  node: SchemaNode;
  prim: SchemaNode;
  record: SchemaNode;
  map: SchemaNode;
  array: SchemaNode;
  union: SchemaNode;
  enum: SchemaNode;
}>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    tie('prim'),
    tie('record'),
    tie('map'),
    tie('array'),
    tie('union'),
    tie('enum'),
  ),
  prim: fc.constantFrom('string', 'int', 'long', 'double', 'boolean', 'bytes'),
  record: fc
    .uniqueArray(fc.record({ name: fc.constantFrom(...FIELD_NAMES), type: tie('node') }), {
      minLength: 1,
      maxLength: 3,
      selector: (f) => f.name,
    })
    .map((fields) => ({ type: 'record', name: '?', fields })),
  map: tie('node').map((values) => ({ type: 'map', values })),
  array: tie('node').map((items) => ({ type: 'array', items })),
  union: fc.oneof(
    fc.oneof(tie('prim'), tie('record'), tie('map'), tie('array')).map((x) => ['null', x]),
    fc.tuple(tie('record'), tie('record')).map(([a, b]) => ['null', a, b]),
    fc.constant<SchemaNode>(['null', 'int', 'long']),
    fc.constant<SchemaNode>(['string', 'int']),
  ),
  enum: fc.constant({ type: 'enum', name: '?', symbols: ['LOW', 'HIGH'] }),
}));

/** Gives every generated named type a unique name (a copy; the arbitrary's values stay untouched). */
function nameTypes(node: SchemaNode, counter: { n: number }): SchemaNode {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map((b) => nameTypes(b, counter));
  const o: Record<string, unknown> = { ...node };
  if (o.name === '?') o.name = `Rand${counter.n++}`;
  if (Array.isArray(o.fields))
    o.fields = (o.fields as { name: string; type: SchemaNode }[]).map((f) => ({
      ...f,
      type: nameTypes(f.type, counter),
    }));
  if (o.items !== undefined) o.items = nameTypes(o.items as SchemaNode, counter);
  if (o.values !== undefined) o.values = nameTypes(o.values as SchemaNode, counter);
  return o;
}

/** A value for `type` where every string, byte string, map key and number is a canary. */
function canaryValue(type: AvroNode, rnd: () => number, n: { i: number }): unknown {
  switch (type.typeName) {
    case 'record':
      return Object.fromEntries((type.fields ?? []).map((f) => [f.name, canaryValue(f.type, rnd, n)]));
    case 'array':
      return Array.from({ length: Math.floor(rnd() * 3) }, () =>
        canaryValue(type.itemsType as AvroNode, rnd, n),
      );
    case 'map':
      return Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 3) }, () => [
          `${CANARY}key${n.i++}`,
          canaryValue(type.valuesType as AvroNode, rnd, n),
        ]),
      );
    case 'union:wrapped':
    case 'union:unwrapped': {
      const types = type.types ?? [];
      const t = types[Math.floor(rnd() * types.length)] as AvroNode;
      const v = canaryValue(t, rnd, n);
      return type.typeName === 'union:wrapped' && t.typeName !== 'null' ? { [t.branchName as string]: v } : v;
    }
    case 'string':
      return `${CANARY}${n.i++}`;
    case 'bytes':
      return Buffer.from(`${CANARY}${n.i++}`);
    case 'int':
    case 'long':
      return NUMBER_CANARY_MIN + (n.i++ % 900);
    case 'double':
      return NUMBER_CANARY_MIN + 0.5;
    case 'boolean':
      return rnd() < 0.5;
    case 'enum':
      return (type.symbols ?? [])[0];
    default:
      return null;
  }
}

interface RecordSchema {
  fields: { name: string; type: unknown; default?: unknown }[];
}

/** The Segment schema plus random fields at the top, inside properties and inside context.page. */
function extendedSegment(top: SchemaNode[], props: SchemaNode[], page: SchemaNode[]): unknown {
  const s = structuredClone(SEGMENT_SCHEMA) as RecordSchema;
  const counter = { n: 0 };
  const add = (r: RecordSchema, extras: SchemaNode[], prefix: string) => {
    extras.forEach((t, i) => {
      r.fields.push({ name: `${prefix}${i}`, type: nameTypes(t, counter) });
    });
  };
  add(s, top, 'ext_');
  const field = (r: RecordSchema, name: string): RecordSchema => {
    const f = r.fields.find((x) => x.name === name);
    if (f === undefined) throw new Error(`no field ${name}`);
    return (f.type as [string, RecordSchema])[1];
  };
  const propsRecord = field(s, 'properties');
  add(propsRecord, props, 'custom_');
  const pageRecord = field(field(s, 'context'), 'page');
  add(pageRecord, page, 'new_');
  return s;
}

const STRICT_ALLOWLIST = `    fields:
      properties.specialty: allow
      properties.providerId: allow
      properties.searchQuery: allow
      properties.revenue: allow
      "properties.items[].sku": allow
      context.page.title: allow
      context.page.url: { url: { keepQuery: [utm_source] } }
`;

describe('fields the policy has never seen', () => {
  const destination: Destination = destinationFrom(STRICT_ALLOWLIST);

  test('random writer schemas with random extra fields: no canary in the output', () => {
    fc.assert(
      fc.property(
        fc.array(schemaNode, { maxLength: 3 }),
        fc.array(schemaNode, { maxLength: 3 }),
        fc.array(schemaNode, { maxLength: 2 }),
        fc.integer(),
        detectableText,
        (top, props, page, seed, query) => {
          const schema = extendedSegment(top, props, page);
          const type = typeOf(schema);
          const plan = destination.compile(type);
          const rnd = mulberry32(seed);
          const record = canaryValue(type as unknown as AvroNode, rnd, { i: 0 }) as Record<string, unknown>;
          // Known fields the policy allows carry safe values; the envelope passes, so it gets safe values too.
          Object.assign(record, {
            messageId: 'msg-1',
            type: 'track',
            event: 'Provider Search',
            name: null,
            timestamp: 1,
            sentAt: null,
            receivedAt: null,
          });
          if (record.properties !== null && typeof record.properties === 'object') {
            const p = record.properties as Record<string, unknown>;
            Object.assign(p, {
              specialty: 'cardiology',
              providerId: 'prov-1',
              searchQuery: query,
              revenue: 12.5,
            });
            p.items = (p.items as Record<string, unknown>[]).map((it) => ({ ...it, sku: 'sku-1' }));
          }
          const pageValue = (record.context as { page?: Record<string, unknown> } | null)?.page;
          if (pageValue)
            Object.assign(pageValue, { title: 'Home', url: `https://x.example/?utm_source=a&q=${CANARY}` });
          const valid = type.clone(record);
          applyAndCheck(plan, valid, 'random schema');
        },
      ),
      { numRuns: 150 },
    );
  });

  test('random schemas compile in every mode; outputs are valid and encode', () => {
    const destinations = [
      destinationFrom('    mode: blocklist\n    pii: hash\n'),
      destinationFrom(
        '    mode: blocklist\n    detectors: flag\n    fields: { "*": allow, properties.*: { mask: { keepLast: 1 } } }\n',
      ),
      destinationFrom(
        '    fields: { ext_0: allow, ext_1: hash, properties.custom_0: allow, context.page: allow }\n',
      ),
    ];
    fc.assert(
      fc.property(
        fc.array(schemaNode, { minLength: 1, maxLength: 3 }),
        fc.array(schemaNode, { maxLength: 2 }),
        fc.integer(),
        (top, props, seed) => {
          const type = typeOf(extendedSegment(top, props, []));
          const record = type.clone(canaryValue(type as unknown as AvroNode, mulberry32(seed), { i: 0 }));
          for (const d of destinations) {
            const plan = d.compile(type);
            const r = plan.apply(record);
            if (r.outcome === 'failed_closed') continue; // e.g. a canary is no URL: failing closed is correct
            if (r.outcome !== 'delivered') continue;
            assert.ok(plan.type.isValid(r.value), 'output not valid for the derived type');
            const back = plan.type.fromBuffer(plan.type.toBuffer(r.value));
            assert.ok(plan.type.isValid(back));
            JSON.parse(plan.toJson(r.value));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('avsc-random records of the reference schema keep every output valid', () => {
    const d = destinationFrom('    mode: blocklist\n    pii: hash\n');
    const plan = d.compile(SEGMENT_TYPE);
    for (let i = 0; i < 200; i++) {
      const r = plan.apply((SEGMENT_TYPE as avro.Type).random());
      assert.equal(r.outcome, 'delivered');
      if (r.outcome === 'delivered') assert.ok(plan.type.isValid(r.value));
    }
  });
});
