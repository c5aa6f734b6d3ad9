import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileScanner, luhnValid } from '../../../src/policy/detectors.ts';

function redact(
  text: string,
  custom: { kind: string; regex: RegExp }[] = [],
): { out: string; kinds: string[] } {
  const kinds: string[] = [];
  const scan = compileScanner('redact', custom);
  assert.ok(scan);
  return { out: scan(text, (k) => kinds.push(k)), kinds };
}

describe('luhnValid', () => {
  test('accepts test card numbers, rejects a changed digit and wrong lengths', () => {
    assert.equal(luhnValid('4111 1111 1111 1111'), true);
    assert.equal(luhnValid('5555-5555-5555-4444'), true);
    assert.equal(luhnValid('378282246310005'), true);
    assert.equal(luhnValid('4111 1111 1111 1112'), false);
    assert.equal(luhnValid('0000000000'), false); // too short to be a card
  });
});

describe('value detectors', () => {
  test('email', () => {
    assert.deepEqual(redact('write to jane.testperson@example.com today'), {
      out: 'write to [REDACTED:email] today',
      kinds: ['email'],
    });
  });
  test('payment card only when the Luhn check passes', () => {
    assert.equal(redact('card 4111 1111 1111 1111 ok').out, 'card [REDACTED:card] ok');
    assert.equal(redact('order 4111 1111 1111 1112 ok').kinds.includes('card'), false);
  });
  test('SSN with dashes or spaces', () => {
    assert.equal(redact('ssn 900-12-3456.').out, 'ssn [REDACTED:ssn].');
    assert.equal(redact('ssn 900 12 3456').out, 'ssn [REDACTED:ssn]');
  });
  test('phone numbers in common US and E.164 forms', () => {
    for (const p of ['(617) 555-0142', '617-555-0142', '617.555.0142', '+1 617 555 0142', '6175550142']) {
      assert.equal(redact(`call ${p} now`).out, 'call [REDACTED:phone] now', p);
    }
  });
  test('dates, prices and short numbers are left alone', () => {
    const text = 'visit on 2026-01-19 at 09:00, copay $25.00, room 12';
    assert.deepEqual(redact(text), { out: text, kinds: [] });
  });
  test('several kinds in one text are all reported, each once', () => {
    const r = redact('a@b.co or 617-555-0142 or c@d.co, ssn 900-12-3456');
    assert.equal(r.out, '[REDACTED:email] or [REDACTED:phone] or [REDACTED:email], ssn [REDACTED:ssn]');
    assert.deepEqual(r.kinds.sort(), ['email', 'phone', 'ssn']);
  });
  test('custom value patterns (from matchers) redact under their matcher name', () => {
    const r = redact('member M-20260112 called', [{ kind: 'member_id', regex: /M-[0-9]{8}/g }]);
    assert.deepEqual(r, { out: 'member [REDACTED:member_id] called', kinds: ['member_id'] });
  });
  test('flag reports without changing the text; off compiles to nothing', () => {
    const kinds: string[] = [];
    const flag = compileScanner('flag', []);
    assert.ok(flag);
    assert.equal(
      flag('mail a@b.co', (k) => kinds.push(k)),
      'mail a@b.co',
    );
    assert.deepEqual(kinds, ['email']);
    assert.equal(compileScanner('off', []), null);
  });
  test('a long adversarial text is scanned in linear time', () => {
    const text = `${'a'.repeat(200_000)}@${'1'.repeat(100_000)}`;
    const t0 = performance.now();
    redact(text);
    assert.ok(performance.now() - t0 < 2000);
  });
});
