/** Consent-aware delivery: context.consent.categoryPreferences decides, failing closed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPhiGateError, type PhiGateError } from '../../../src/errors.ts';
import type { Plan, PlanResult } from '../../../src/policy/types.ts';
import { destinationFrom, policyFrom, SEGMENT_SCHEMA, SEGMENT_TYPE, segment, typeOf } from './support.ts';

const ADS =
  '    consent: { categories: [Advertising, Analytics] }\n    fields: { properties.specialty: allow }\n';
const PREFS = 'context.consent.categoryPreferences';

function planOf(body: string): Plan {
  return destinationFrom(body).compile(SEGMENT_TYPE, { writerSchema: SEGMENT_SCHEMA });
}

function withPrefs(prefs: Record<string, boolean> | null): unknown {
  return segment({
    event: 'Appointment Booked',
    properties: { specialty: 'cardiology' },
    context: { consent: { categoryPreferences: prefs } },
  });
}

function blockedOf(r: PlanResult): { category: string | null; reason: string }[] {
  assert.equal(r.outcome, 'filtered_consent');
  assert.equal(r.decision.outcome, 'filtered_consent');
  return r.outcome === 'filtered_consent' ? [...r.blocked] : [];
}

describe('consent', () => {
  test('every declared category true: delivered, with the usual decision', () => {
    const r = planOf(ADS).apply(withPrefs({ Advertising: true, Analytics: true, Functional: false }));
    assert.equal(r.outcome, 'delivered');
    assert.equal(r.decision.fields['properties.specialty'], 'allow');
  });

  test('one category false: filtered_consent, naming the category; nothing else in the decision', () => {
    const r = planOf(ADS).apply(withPrefs({ Advertising: false, Analytics: true }));
    assert.deepEqual(blockedOf(r), [{ category: 'Advertising', reason: 'denied' }]);
    assert.deepEqual(r.decision.fields, { [`${PREFS}.Advertising`]: 'consent:denied' });
    assert.deepEqual(r.decision.kids, []);
    assert.equal(r.decision.errorCode, null);
    assert.ok(Object.isFrozen(r.decision.fields)); // shared per plan: the audit encoder caches it
  });

  test('several categories fail: each is named, in sorted order', () => {
    const r = planOf(ADS).apply(withPrefs({ Analytics: false }));
    assert.deepEqual(blockedOf(r), [
      { category: 'Advertising', reason: 'absent' },
      { category: 'Analytics', reason: 'denied' },
    ]);
  });

  test('preferences absent + missing: drop (the default): filtered_consent', () => {
    const plan = planOf(ADS);
    for (const record of [
      withPrefs(null),
      segment({ context: { consent: null } }),
      segment({ context: null }),
      segment({}),
    ]) {
      const r = plan.apply(record);
      assert.deepEqual(blockedOf(r), [{ category: null, reason: 'missing' }]);
      assert.deepEqual(r.decision.fields, { [PREFS]: 'consent:missing' });
    }
  });

  test('preferences absent + missing: deliver: delivered', () => {
    const plan = planOf(
      '    consent: { categories: [Advertising], missing: deliver }\n    fields: { properties.specialty: allow }\n',
    );
    assert.equal(plan.apply(withPrefs(null)).outcome, 'delivered');
    assert.equal(plan.apply(segment({})).outcome, 'delivered');
  });

  test('present preferences without the category: not consented, even with missing: deliver', () => {
    const plan = planOf('    consent: { categories: [Advertising], missing: deliver }\n');
    assert.deepEqual(blockedOf(plan.apply(withPrefs({ Analytics: true }))), [
      { category: 'Advertising', reason: 'absent' },
    ]);
    assert.deepEqual(blockedOf(plan.apply(withPrefs({}))), [{ category: 'Advertising', reason: 'absent' }]);
  });

  test('a non-boolean value at run time is not consented (invalid)', () => {
    const plan = planOf(ADS);
    // A hand-built record the writer type would reject: the gate still fails closed.
    for (const bad of ['true', 1, {}, ['yes']]) {
      const record = withPrefs({ Analytics: true }) as {
        context: { consent: { categoryPreferences: object } };
      };
      record.context.consent.categoryPreferences = { Advertising: bad, Analytics: true };
      assert.deepEqual(blockedOf(plan.apply(record)), [{ category: 'Advertising', reason: 'invalid' }]);
    }
  });

  test('inherited keys of the preferences object never count as consent', () => {
    const plan = planOf('    consent: { categories: [constructor] }\n');
    assert.deepEqual(blockedOf(plan.apply(withPrefs({}))), [{ category: 'constructor', reason: 'absent' }]);
  });

  test('the event filter runs first: an event it drops is filtered, not filtered_consent', () => {
    const plan = planOf(`    events: { allow: [identify] }\n${ADS}`);
    assert.equal(plan.apply(withPrefs(null)).outcome, 'filtered');
  });

  test('a destination without consent is unaffected', () => {
    const plan = planOf('    fields: { properties.specialty: allow }\n');
    assert.equal(plan.apply(withPrefs({ Advertising: false })).outcome, 'delivered');
    assert.equal(plan.apply(withPrefs(null)).outcome, 'delivered');
    assert.deepEqual(plan.warnings, []);
  });

  test('the destination version includes consent; category order does not change it', () => {
    const a = destinationFrom('    consent: { categories: [Advertising, Analytics] }\n').version;
    const b = destinationFrom('    consent: { categories: [Analytics, Advertising] }\n').version;
    const none = destinationFrom('').version;
    const deliver = destinationFrom(
      '    consent: { categories: [Advertising, Analytics], missing: deliver }\n',
    );
    assert.equal(a, b);
    assert.notEqual(a, none);
    assert.notEqual(a, deliver.version);
  });
});

describe('consent against other writer schemas', () => {
  const schemaWith = (prefs: unknown) => ({
    type: 'record',
    name: 'E',
    fields: [
      { name: 'messageId', type: 'string' },
      {
        name: 'context',
        type: {
          type: 'record',
          name: 'Ctx',
          fields: [
            {
              name: 'consent',
              type: [
                'null',
                { type: 'record', name: 'C', fields: [{ name: 'categoryPreferences', type: prefs }] },
              ],
              default: null,
            },
          ],
        },
      },
    ],
  });
  const compile = (body: string, schema: unknown): Plan => destinationFrom(body).compile(typeOf(schema));
  const event = (prefs: unknown) => ({
    messageId: 'm',
    context: { consent: { categoryPreferences: prefs } },
  });

  test('a record of booleans (nullable or not) works like a map', () => {
    const schema = schemaWith({
      type: 'record',
      name: 'Prefs',
      fields: [
        { name: 'Advertising', type: 'boolean' },
        { name: 'Analytics', type: ['null', 'boolean'], default: null },
      ],
    });
    const plan = compile('    consent: { categories: [Advertising, Analytics] }\n', schema);
    assert.equal(plan.apply(event({ Advertising: true, Analytics: true })).outcome, 'delivered');
    assert.deepEqual(blockedOf(plan.apply(event({ Advertising: true, Analytics: null }))), [
      { category: 'Analytics', reason: 'absent' },
    ]);
  });

  test('a record without a declared category: never consented, and check is told', () => {
    const schema = schemaWith({
      type: 'record',
      name: 'Prefs',
      fields: [{ name: 'Analytics', type: 'boolean' }],
    });
    const plan = compile('    consent: { categories: [Advertising] }\n', schema);
    assert.deepEqual(blockedOf(plan.apply(event({ Analytics: true }))), [
      { category: 'Advertising', reason: 'absent' },
    ]);
    assert.match(plan.warnings.join('\n'), /has no field 'Advertising'/);
  });

  test('a schema typing the preferences as non-boolean cannot be planned', () => {
    for (const prefs of [
      { type: 'map', values: 'string' },
      ['null', { type: 'map', values: ['null', 'string', 'boolean'] }],
      'string',
      { type: 'record', name: 'P', fields: [{ name: 'Advertising', type: 'int' }] },
    ]) {
      assert.throws(
        () => compile('    consent: { categories: [Advertising] }\n', schemaWith(prefs)),
        (err: unknown) => isPhiGateError(err, 'PHIGATE_ERR_PLAN') && /consent: .*boolean/.test(err.message),
        JSON.stringify(prefs),
      );
    }
  });

  test('a schema without the preferences path: consent is always missing, with a warning', () => {
    const schema = { type: 'record', name: 'E', fields: [{ name: 'messageId', type: 'string' }] };
    const drop = compile('    consent: { categories: [Advertising] }\n', schema);
    assert.equal(drop.apply({ messageId: 'm' }).outcome, 'filtered_consent');
    assert.match(
      drop.warnings.join('\n'),
      /no context\.consent\.categoryPreferences.*every event is filtered/,
    );
    const deliver = compile('    consent: { categories: [Advertising], missing: deliver }\n', schema);
    assert.equal(deliver.apply({ messageId: 'm' }).outcome, 'delivered');
  });
});

describe('consent validation', () => {
  function problemsOf(yaml: string): readonly { path: string; message: string }[] {
    try {
      policyFrom(yaml);
    } catch (err) {
      assert.ok(isPhiGateError(err, 'PHIGATE_ERR_POLICY_INVALID'), String(err));
      return (err as PhiGateError).problems;
    }
    assert.fail('expected the policy to be rejected');
  }

  test('an empty category list, unknown keys and a bad missing value are all reported at once', () => {
    const problems = problemsOf(
      [
        'version: 1',
        'destinations:',
        '  a:',
        '    key: drop',
        '    fields: { userId: drop, anonymousId: drop }',
        '    consent: { categories: [], missing: sometimes, purposes: [ads] }',
        '  b:',
        '    key: drop',
        '    fields: { userId: drop, anonymousId: drop }',
        '    consent: { categories: [Advertising, Advertising, ""] }',
        '  c:',
        '    key: drop',
        '    fields: { userId: drop, anonymousId: drop }',
        '    consent: { missing: drop }',
        '',
      ].join('\n'),
    );
    const text = problems.map((p) => `${p.path}: ${p.message}`);
    for (const expected of [
      /^destinations\.a\.consent\.categories: must list at least 1$/,
      /^destinations\.a\.consent\.missing: must be one of: drop, deliver$/,
      /^destinations\.a\.consent\.purposes: unknown key$/,
      /^destinations\.b\.consent\.categories: lists the same entry twice/,
      /^destinations\.b\.consent\.categories\[2\]: /,
      /^destinations\.c\.consent\.categories: is required$/,
    ]) {
      assert.ok(
        text.some((t) => expected.test(t)),
        `no problem matching ${expected}; got:\n${text.join('\n')}`,
      );
    }
  });
});
