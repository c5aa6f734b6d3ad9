import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createGeneralizeAction } from '../../../../src/policy/actions/generalize.ts';
import type { LeafInfo } from '../../../../src/policy/actions/types.ts';

const STRING: LeafInfo = { avroType: 'string', logicalType: undefined };
const g = (to: Parameters<typeof createGeneralizeAction>[0], leaf: LeafInfo = STRING) =>
  createGeneralizeAction(to, leaf);

describe('generalize: year / month', () => {
  test('ISO dates and date-times, as written (no time-zone shift)', () => {
    assert.equal(g('year')('1984-07-02'), '1984');
    assert.equal(g('month')('1984-07-02'), '1984-07');
    assert.equal(g('year')('1984-12-31T23:30:00-05:00'), '1984');
    assert.equal(g('month')(' 1984-07 '), '1984-07');
    assert.equal(g('year')('19840702'), '1984'); // HL7
  });
  test('numbers: epoch ms by default, or what the logical type says', () => {
    const ms = Date.UTC(1984, 6, 2);
    assert.equal(g('month')(ms), '1984-07');
    assert.equal(g('month', { avroType: 'long', logicalType: 'timestamp-micros' })(ms * 1000), '1984-07');
    assert.equal(g('year', { avroType: 'int', logicalType: 'date' })(ms / 86_400_000), '1984');
  });
  for (const bad of ['July 2, 1984', '1984-13-01', '1984-02-45', 'yesterday', '84-07-02']) {
    test(`fails closed on ${JSON.stringify(bad)}`, () =>
      assert.throws(() => g('year')(bad), { code: 'PHIGATE_ERR_ACTION' }));
  }
  test('the empty string stays empty', () => assert.equal(g('year')(''), ''));
});

describe('generalize: zip3', () => {
  test('first three digits of a US ZIP or ZIP+4', () => {
    assert.equal(g('zip3')('02139'), '021');
    assert.equal(g('zip3')('02139-4307'), '021');
    assert.equal(g('zip3')(2139), '021'); // a ZIP stored as a number lost its leading zero
  });
  test('Safe Harbor: sparsely populated prefixes become 000', () => {
    assert.equal(g('zip3')('03601'), '000');
    assert.equal(g('zip3')('89301'), '000');
  });
  for (const bad of ['SW1A 1AA', '0213', 'abcde', '02139-12']) {
    test(`fails closed on ${JSON.stringify(bad)}`, () =>
      assert.throws(() => g('zip3')(bad), { code: 'PHIGATE_ERR_ACTION' }));
  }
});

describe('generalize: ipv4-24 / ipv6-48', () => {
  test('IPv4 → /24', () => assert.equal(g('ipv4-24')('203.0.113.57'), '203.0.113.0'));
  test('IPv6 → /48, canonical form', () => {
    assert.equal(g('ipv6-48')('2001:db8:85a3:8d3:1319:8a2e:370:7348'), '2001:db8:85a3::');
    assert.equal(g('ipv6-48')('2001:0db8:0000:0000::1'), '2001:db8::');
    assert.equal(g('ipv6-48')('fe80::1%eth0'), 'fe80::');
  });
  test('either option accepts either family; IPv4-mapped IPv6 is IPv4', () => {
    assert.equal(g('ipv4-24')('2001:db8:85a3::1'), '2001:db8:85a3::');
    assert.equal(g('ipv6-48')('198.51.100.23'), '198.51.100.0');
    assert.equal(g('ipv6-48')('::ffff:198.51.100.23'), '198.51.100.0');
  });
  for (const bad of ['localhost', '300.1.1.1', '1.2.3', 'jane@example.com']) {
    test(`fails closed on ${JSON.stringify(bad)}`, () =>
      assert.throws(() => g('ipv4-24')(bad), { code: 'PHIGATE_ERR_ACTION' }));
  }
});

describe('generalize: birthyear / age (Safe Harbor: ages over 89 are one category)', () => {
  const in2026 = () => Date.UTC(2026, 10, 22);
  const by = (leaf: LeafInfo = STRING) => createGeneralizeAction('birthyear', leaf, in2026);
  test('a birth year that can mean 90 or older this year becomes 90+', () => {
    assert.equal(by()('1984-07-02'), '1984');
    assert.equal(by()('1937-01-01'), '1937'); // 89 at most in 2026
    assert.equal(by()('1936-12-31'), '90+'); // turns 90 in 2026
    assert.equal(by()('19200315'), '90+');
    assert.equal(by({ avroType: 'int', logicalType: 'date' })(Date.UTC(1930, 0, 1) / 86_400_000), '90+');
    assert.equal(by()('2026-02-01'), '2026');
  });
  test('the cut-off follows the clock, by UTC year', () => {
    const at = (ms: number) => createGeneralizeAction('birthyear', STRING, () => ms);
    assert.equal(at(Date.UTC(2026, 11, 31, 23, 59))('1937-06-01'), '1937');
    assert.equal(at(Date.UTC(2027, 0, 1))('1937-06-01'), '90+');
  });
  test('without an injected clock it uses the wall clock', () => {
    const cutoff = new Date().getUTCFullYear() - 90;
    assert.equal(g('birthyear')(`${cutoff}-06-01`), '90+');
    assert.equal(g('birthyear')(`${cutoff + 1}-06-01`), String(cutoff + 1));
  });
  test('property: no output of birthyear or age can mean an age over 89', () => {
    const year = new Date(in2026()).getUTCFullYear();
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1850-01-01'), max: new Date('2026-11-22'), noInvalidDate: true }),
        fc.double({ min: 0, max: 150, noNaN: true }),
        (born, years) => {
          const out = by()(born.toISOString().slice(0, 10));
          assert.ok(out === '90+' || year - Number(out) <= 89, out);
          const a = g('age')(years);
          assert.ok(a === '90+' || Number(a) <= 89, a);
        },
      ),
      { numRuns: 2000 },
    );
  });
  test('ages: whole years; 90 and over become 90+', () => {
    assert.equal(g('age')(37), '37');
    assert.equal(g('age')(0.5), '0');
    assert.equal(g('age')(' 89.9 '), '89');
    assert.equal(g('age')(90), '90+');
    assert.equal(g('age')('104'), '90+');
    assert.equal(g('age')(150), '90+');
  });
  for (const [to, bad] of [
    ['age', -1],
    ['age', 151],
    ['age', '37 years'],
    ['age', '1e2'],
    ['age', Number.NaN],
    ['age', true],
    ['birthyear', 'last spring'],
  ] as const) {
    test(`${to} fails closed on ${String(bad)}`, () =>
      assert.throws(() => g(to)(bad), { code: 'PHIGATE_ERR_ACTION' }));
  }
  test('the empty string stays empty', () => {
    assert.equal(g('birthyear')(''), '');
    assert.equal(g('age')(''), '');
  });
});
