/** Path forms against generic writer schemas: arrays, wildcards, maps, unions, nesting. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deliver, destinationFrom, typeOf } from '../support.ts';

const HEX64 = /^[0-9a-f]{64}$/;

const SCHEMA = {
  type: 'record',
  name: 'Event',
  namespace: 'test.walk',
  fields: [
    { name: 'id', type: 'string' },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'note', type: 'string' },
          ],
        },
      },
    },
    { name: 'matrix', type: { type: 'array', items: { type: 'array', items: 'string' } } },
    { name: 'tags', type: { type: 'map', values: 'string' } },
    { name: 'counts', type: { type: 'map', values: 'int' } },
    {
      name: 'people',
      type: {
        type: 'map',
        values: {
          type: 'record',
          name: 'Person',
          fields: [
            { name: 'role', type: 'string' },
            { name: 'email', type: ['null', 'string'], default: null },
          ],
        },
      },
    },
    { name: 'amount', type: ['null', 'int', 'long'], default: null },
    {
      name: 'payload',
      type: [
        'null',
        {
          type: 'record',
          name: 'Visit',
          fields: [
            { name: 'clinic', type: 'string' },
            { name: 'mrn', type: 'string' },
          ],
        },
        { type: 'record', name: 'Search', fields: [{ name: 'query', type: 'string' }] },
      ],
      default: null,
    },
    {
      name: 'a',
      type: {
        type: 'record',
        name: 'A',
        fields: [
          {
            name: 'b',
            type: {
              type: 'record',
              name: 'B',
              fields: [
                {
                  name: 'c',
                  type: {
                    type: 'record',
                    name: 'C',
                    fields: [
                      {
                        name: 'd',
                        type: {
                          type: 'record',
                          name: 'D',
                          fields: [
                            { name: 'e', type: 'string' },
                            { name: 'f', type: 'string' },
                          ],
                        },
                      },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
  ],
};
const TYPE = typeOf(SCHEMA);

const RECORD = TYPE.clone({
  id: 'ev-1',
  lines: [
    { sku: 'visit-30', note: 'first' },
    { sku: 'rx-10', note: 'second' },
  ],
  matrix: [['x', 'y'], ['z']],
  tags: { campaign: 'winter', source: 'mail', ssn: '900-12-3456' },
  counts: { visits: 3, refills: 1 },
  people: { owner: { role: 'doctor', email: 'dr@example.com' }, guest: { role: 'patient', email: null } },
  amount: { long: 1234 },
  payload: { 'test.walk.Visit': { clinic: 'North', mrn: 'MRN-1' } },
  a: { b: { c: { d: { e: 'deep', f: 'deeper' } } } },
});

function plan(fields: string, extra = '') {
  return destinationFrom(`${extra}    fields:\n${fields}`).compile(TYPE);
}

describe('arrays', () => {
  test('[] reaches each item; other item fields drop', () => {
    const { value, fields } = deliver(plan('      "lines[].sku": allow\n'), RECORD);
    assert.deepEqual(value.lines, [{ sku: 'visit-30' }, { sku: 'rx-10' }]);
    assert.equal(fields['lines[].sku'], 'allow');
    assert.equal(fields['lines[].note'], 'drop');
  });
  test('nested arrays: matrix[][]', () => {
    const { value } = deliver(plan('      "matrix[][]": { mask: { keepFirst: 0 } }\n'), RECORD);
    assert.deepEqual(value.matrix, [['*', '*'], ['*']]);
  });
  test('* does not match an array item', () => {
    const p = plan('      "lines.*": allow\n');
    assert.equal(p.apply(RECORD).outcome, 'delivered');
    assert.deepEqual(p.unmatchedRules, ['lines.*']);
  });
});

describe('maps', () => {
  test('a literal key rule names its key in decision paths; any other key is *', () => {
    const { value, fields } = deliver(plan('      tags.campaign: allow\n'), RECORD);
    assert.deepEqual({ ...(value.tags as object) }, { campaign: 'winter' });
    assert.equal(fields['tags.campaign'], 'allow');
    assert.equal(fields['tags.*'], 'drop');
    assert.equal(fields['tags.<pii:ssn>'], 'drop');
    assert.equal(fields['tags.source'], undefined);
    assert.equal(fields['tags.ssn'], undefined);
  });
  test('* on map keys, with matcher hits on keys still applying', () => {
    const { value, fields } = deliver(plan('      tags.*: allow\n'), RECORD);
    assert.deepEqual({ ...(value.tags as object) }, { campaign: 'winter', source: 'mail' });
    assert.equal(fields['tags.*'], 'allow');
    assert.equal(fields['tags.<pii:ssn>'], 'drop');
  });
  test('a map key is never written into a decision, kept or dropped (made-up name and diagnosis)', () => {
    const key = 'Ophelia Quarrington - chronic migraine';
    const p = plan('      tags.campaign: allow\n');
    for (const spec of ['      tags.campaign: allow\n', '      tags.*: allow\n', '      tags.*: hash\n']) {
      const rec = TYPE.clone({ ...(RECORD as object), tags: { [key]: 'x', campaign: 'winter' } });
      const r = plan(spec).apply(rec);
      assert.equal(r.outcome, 'delivered');
      assert.doesNotMatch(JSON.stringify(r.decision), /Ophelia|Quarrington|migraine/);
      assert.ok(Object.isFrozen(r.decision.fields));
    }
    // the same shape with another unknown key shares the frozen fields object
    const a = p.apply(TYPE.clone({ ...(RECORD as object), tags: { [key]: 'x' } }));
    const b = p.apply(TYPE.clone({ ...(RECORD as object), tags: { 'Basil Fenwick-Orr': 'y' } }));
    assert.equal(a.decision.fields, b.decision.fields);
    assert.equal(a.decision.fields['tags.*'], 'drop');
  });
  test('entries with different actions: values become a union of output types', () => {
    const p = plan('      counts.*: allow\n      counts.refills: hash\n');
    const { value } = deliver(p, RECORD);
    const counts = value.counts as Record<string, unknown>;
    assert.equal(counts.visits, 3);
    assert.match(counts.refills as string, HEX64);
    const schema = p.schema as { fields: { name: string; type: unknown }[] };
    assert.deepEqual(schema.fields.find((f) => f.name === 'counts')?.type, [
      'null',
      { type: 'map', values: ['int', 'string'] },
    ]);
  });
  test('map of records: rules through a key (people.*.role) and a literal key variant', () => {
    const p = plan('      people.*.role: allow\n      people.owner.email: hash\n');
    const { value, fields } = deliver(p, RECORD);
    const people = value.people as Record<string, Record<string, unknown>>;
    assert.equal(people.guest?.role, 'patient');
    assert.equal(people.owner?.role, 'doctor');
    assert.match(people.owner?.email as string, HEX64);
    assert.equal(people.guest?.email, null);
    assert.equal(fields['people.owner.email'], 'hash');
    assert.equal(fields['people.*.role'], 'allow');
    assert.equal(fields['people.guest.role'], undefined);
  });
  test('a map key that value detectors flag is dropped and never written into a path', () => {
    const rec = TYPE.clone({ ...(RECORD as object), tags: { 'jane@example.com': 'x', ok: 'y' } });
    const { value, fields } = deliver(plan('      tags.*: allow\n'), rec);
    assert.deepEqual({ ...(value.tags as object) }, { ok: 'y' });
    assert.equal(fields['tags.<redact:email>'], 'redact:email');
    assert.doesNotMatch(JSON.stringify(fields), /jane/);
  });
});

describe('unions', () => {
  test('a wrapped union passes as it is when allowed', () => {
    const p = plan('      amount: allow\n');
    const { value } = deliver(p, RECORD);
    assert.deepEqual(value.amount, { long: 1234 });
  });
  test('a transformed union becomes ["null","string"]', () => {
    const p = plan('      amount: hash\n');
    const { value } = deliver(p, RECORD);
    assert.match(value.amount as string, HEX64);
    const schema = p.schema as { fields: { name: string; type: unknown }[] };
    assert.deepEqual(schema.fields.find((f) => f.name === 'amount')?.type, ['null', 'string']);
  });
  test('union of records: paths walk through every branch; a dropped branch becomes null', () => {
    const p = plan('      payload.clinic: allow\n');
    const visit = deliver(p, RECORD).value.payload;
    assert.deepEqual(visit, { clinic: 'North' }); // only one record branch left: unwrapped
    const search = TYPE.clone({ ...(RECORD as object), payload: { 'test.walk.Search': { query: 'q' } } });
    assert.equal(deliver(p, search).value.payload, null);
  });
  test('both record branches kept: still wrapped, under the derived names', () => {
    const p = plan('      payload.clinic: allow\n      payload.query: allow\n');
    const payload = deliver(p, RECORD).value.payload as Record<string, unknown>;
    assert.deepEqual(Object.keys(payload), ['phigate.d.payload_Visit']);
    assert.deepEqual(payload['phigate.d.payload_Visit'], { clinic: 'North' });
  });
});

describe('nesting', () => {
  test('deep paths, and a wildcard in the middle', () => {
    const { value, fields } = deliver(
      plan('      a.b.c.d.e: allow\n      a.*.c.d.f: { mask: { keepLast: 1 } }\n'),
      RECORD,
    );
    assert.deepEqual(value.a, { b: { c: { d: { e: 'deep', f: '*****r' } } } });
    assert.equal(fields['a.b.c.d.f'], 'mask');
  });
  test('records with nothing left disappear from the derived schema', () => {
    const p = plan('      id: allow\n');
    const schema = p.schema as { fields: { name: string }[] };
    assert.deepEqual(
      schema.fields.map((f) => f.name),
      ['id'],
    );
    assert.equal(deliver(p, RECORD).fields.a, 'drop');
  });
});
