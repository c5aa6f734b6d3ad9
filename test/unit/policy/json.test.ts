/** Natural JSON in (preview's events) and out (`format: json`, preview's output). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPhiGateError } from '../../../src/errors.ts';
import { fromNaturalJson, naturalJson } from '../../../src/policy/index.ts';
import { deliver, destinationFrom, SEGMENT_SCHEMA, SEGMENT_TYPE, typeOf } from './support.ts';

const SCHEMA = {
  type: 'record',
  name: 'R',
  namespace: 'ex',
  fields: [
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'day', type: ['null', { type: 'int', logicalType: 'date' }], default: null },
    { name: 'n', type: ['null', 'int', 'long'], default: null },
    { name: 'blob', type: ['null', 'bytes'], default: null },
    { name: 'tags', type: { type: 'map', values: ['null', 'string', 'int'] }, default: {} },
    { name: 'required', type: 'string' },
  ],
};
const TYPE = typeOf(SCHEMA);

describe('fromNaturalJson', () => {
  test('ISO timestamps and dates by logical type, unions wrapped where avsc wraps them, bytes from base64', () => {
    const v = fromNaturalJson(
      TYPE,
      {
        at: '2026-01-12T14:03:27.511Z',
        day: '2026-01-12',
        n: 5,
        blob: 'AQI=',
        tags: { a: 'x', b: 2 },
        required: 'r',
      },
      SCHEMA,
    ) as Record<string, unknown>;
    assert.equal(v.at, Date.UTC(2026, 0, 12, 14, 3, 27, 511));
    assert.equal(v.day, 20_465);
    assert.deepEqual(v.n, { int: 5 });
    assert.deepEqual(v.blob, Buffer.from([1, 2]));
    assert.ok(TYPE.isValid(v));
  });
  test('missing optional fields take their defaults', () => {
    const v = fromNaturalJson(TYPE, { at: 1, required: 'r' }, SCHEMA) as Record<string, unknown>;
    assert.equal(v.n, null);
    assert.deepEqual(v.tags, {});
  });
  test('a missing required field is an input error naming the path', () => {
    assert.throws(
      () => fromNaturalJson(TYPE, { at: 1 }, SCHEMA),
      (err: unknown) =>
        isPhiGateError(err, 'PHIGATE_ERR_INPUT') &&
        err.problems.length === 1 &&
        err.problems[0]?.path === 'required' &&
        /is required/.test(err.problems[0]?.message ?? ''),
    );
  });
  test('every mismatch at once, map entries named * (keys are data)', () => {
    assert.throws(
      () =>
        fromNaturalJson(TYPE, { at: 'not a date', n: 'five', tags: { 'Wilhelmina Strood': [1] } }, SCHEMA),
      (err: unknown) => {
        assert.ok(isPhiGateError(err, 'PHIGATE_ERR_INPUT'));
        assert.deepEqual(
          err.problems.map((p) => `${p.path}: ${p.message}`),
          [
            'at: is not an ISO 8601 date-time',
            'n: matches no branch of its union',
            'tags.*: matches no branch of its union',
            'required: is required (no default in the schema)',
          ],
        );
        assert.doesNotMatch(JSON.stringify(err.problems), /Wilhelmina/);
        return true;
      },
    );
  });
  test('fields the schema does not have are listed (and dropped), also inside union branches', () => {
    const nested = {
      type: 'record',
      name: 'N',
      fields: [
        { name: 'a', type: 'string' },
        {
          name: 'inner',
          type: ['null', { type: 'record', name: 'I', fields: [{ name: 'b', type: 'int' }] }],
          default: null,
        },
      ],
    };
    const { value, ignored } = naturalJson(
      typeOf(nested),
      { a: 'x', extra: 1, inner: { b: 2, typo_c: 3 } },
      nested,
    );
    assert.deepEqual(ignored, ['inner.typo_c', 'extra']);
    assert.deepEqual(JSON.parse(JSON.stringify(value)), { a: 'x', inner: { b: 2 } });
  });
  test('a value of the wrong type is an input error', () => {
    assert.throws(() => fromNaturalJson(TYPE, { at: 'not a date', required: 'r' }, SCHEMA), {
      code: 'PHIGATE_ERR_INPUT',
    });
  });
});

describe('Plan.toJson', () => {
  test('unwraps unions, encodes bytes as base64, keeps everything else natural', () => {
    const plan = destinationFrom('    mode: blocklist\n').compile(TYPE);
    const v = fromNaturalJson(
      TYPE,
      { at: 1, n: 7, blob: 'AQI=', tags: { a: 'x', b: 2 }, required: 'r' },
      SCHEMA,
    );
    const { value } = deliver(plan, v);
    assert.deepEqual(JSON.parse(plan.toJson(value)), {
      at: 1,
      day: null,
      n: 7,
      blob: 'AQI=',
      tags: { a: 'x', b: 2 },
      required: 'r',
    });
  });
  test('the Segment reference schema needs no conversion: plain JSON', () => {
    const plan = destinationFrom('    fields: { properties.specialty: allow }\n').compile(SEGMENT_TYPE, {
      writerSchema: SEGMENT_SCHEMA,
    });
    const { value } = deliver(
      plan,
      SEGMENT_TYPE.clone(
        { messageId: 'm', type: 'track', timestamp: 1, properties: { specialty: 'x' } },
        { wrapUnions: true },
      ),
    );
    assert.equal(plan.toJson(value), JSON.stringify(value));
  });
});

describe('outputs hold only schema fields', () => {
  test('properties a hand-built input carries beyond its schema never reach toJson', () => {
    const t = typeOf({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] });
    const plan = destinationFrom('    mode: blocklist\n    detectors: off\n').compile(t);
    const r = plan.apply({ a: 1, ssn: '900-12-3456' });
    assert.equal(r.outcome, 'delivered');
    if (r.outcome === 'delivered') assert.equal(plan.toJson(r.value), '{"a":1}');
  });
});
