/** Plan.apply: decisions, key ids, failing closed, record keys. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decrypt, deliver, destinationFrom, policyFrom, SEGMENT_TYPE, segment } from './support.ts';

const ENCRYPTION = `    encryption:
      active: k1
      keys:
        - kid: k0
          publicKey: { file: TEST-ONLY-rsa-2048-next.pub.pem }
        - kid: k1
          publicKey: { file: TEST-ONLY-rsa-2048.pub.pem }
`;

describe('decisions', () => {
  const d = destinationFrom(
    `    detectors: flag\n${ENCRYPTION}    fields:\n      properties.mrn: encrypt\n      properties.notes: allow\n      properties.extras.*: allow\n`,
  );
  const plan = d.compile(SEGMENT_TYPE);
  const r = plan.apply(
    segment({
      event: 'Visit Summary Viewed',
      properties: { mrn: 'MRN-1', notes: 'mail jane@example.com', extras: { visit_type: 'video' } },
    }),
  );

  test('static entries per schema path, dynamic ones for map keys and findings', () => {
    assert.equal(r.outcome, 'delivered');
    const f = r.decision.fields;
    assert.equal(f['properties.mrn'], 'encrypt');
    assert.equal(f['properties.notes'], 'flag:email');
    assert.equal(f['properties.extras.*'], 'allow');
    assert.equal(f.userId, 'hash');
    assert.equal(f.traits, 'drop');
  });
  test('events of the same shape share one frozen fields object (the audit encodes it once)', () => {
    const again = (notes: string, extras: Record<string, string>) =>
      plan.apply(segment({ event: 'Visit Summary Viewed', properties: { mrn: 'MRN-2', notes, extras } }));
    const same = again('write to john@example.com', { visit_type: 'phone' });
    const other = again('nothing to see', { visit_type: 'video' });
    assert.equal(same.decision.fields, r.decision.fields);
    assert.ok(Object.isFrozen(same.decision.fields));
    assert.notEqual(other.decision.fields, r.decision.fields);
    assert.equal(other.decision.fields['properties.notes'], 'allow');
    assert.equal(other.decision.fields['properties.extras.*'], 'allow');
  });
  test('flag leaves the value as it is', () => {
    assert.equal(
      r.outcome === 'delivered' && (r.value as { properties: { notes: string } }).properties.notes,
      'mail jane@example.com',
    );
  });
  test('destination, version, event identity and key ids', () => {
    assert.equal(r.decision.destination, 'd');
    assert.equal(r.decision.policyVersion, d.version);
    assert.equal(r.decision.eventType, 'track');
    assert.equal(r.decision.eventName, 'Visit Summary Viewed');
    assert.deepEqual(r.decision.kids, [d.keyIds[0], 'k1'].sort());
    assert.deepEqual(d.keyIds, [d.keyIds[0], 'k0', 'k1']);
    assert.equal(r.decision.errorCode, null);
  });
  test('the encrypted value decrypts with the active key', () => {
    const mrn = r.outcome === 'delivered' ? (r.value as { properties: { mrn: string } }).properties.mrn : '';
    assert.equal(decrypt(mrn), 'MRN-1');
  });
  test('a finding in one map entry is kept when a later entry shares its path', () => {
    const x = plan.apply(
      segment({
        properties: {
          extras: { a: 'call 617-555-0142 or mail jane@example.com', b: 'ok', c: 'jane@example.com' },
        },
      }),
    );
    assert.equal(x.decision.fields['properties.extras.*'], 'flag:email,phone');
    assert.doesNotMatch(JSON.stringify(x.decision), /jane|617/);
  });
  test('no decision ever holds a value', () => {
    assert.doesNotMatch(JSON.stringify(r.decision), /MRN-1|jane@example|video/);
  });
  test('a record without dynamic entries shares the static fields object', () => {
    const a = plan.apply(segment({ event: 'x' }));
    const b = plan.apply(segment({ event: 'y' }));
    assert.equal(a.decision.fields, b.decision.fields);
    assert.ok(Object.isFrozen(a.decision.fields));
  });
});

describe('failing closed', () => {
  const d = destinationFrom(
    '    fields:\n      properties.dob: { generalize: year }\n      context.page.url: { url: {} }\n      properties.extras.*: { generalize: zip3 }\n',
  );
  const plan = d.compile(SEGMENT_TYPE);

  test('an unparseable date: the whole event fails closed, with code and path', () => {
    const r = plan.apply(segment({ properties: { dob: 'July 2nd, 1984' } }));
    assert.equal(r.outcome, 'failed_closed');
    assert.equal('value' in r, false);
    assert.equal(r.decision.errorCode, 'PHIGATE_ERR_ACTION');
    assert.deepEqual(r.decision.fields, { 'properties.dob': 'failed:PHIGATE_ERR_ACTION' });
    assert.equal(r.outcome === 'failed_closed' && r.error.code, 'PHIGATE_ERR_ACTION');
  });
  test('the error message names the path and never the value', () => {
    const r = plan.apply(segment({ context: { page: { url: 'not a url jane@example.com' } } }));
    assert.equal(r.outcome, 'failed_closed');
    if (r.outcome !== 'failed_closed') return;
    assert.doesNotMatch(r.error.message, /jane/);
    assert.deepEqual(r.decision.fields, { 'context.page.url': 'failed:PHIGATE_ERR_ACTION' });
  });
  test('a failure inside a map entry reports the entry path', () => {
    const r = plan.apply(
      segment({ properties: { extras: { clinic_code: '02139', branch_code: 'SW1A 1AA' } } }),
    );
    assert.equal(r.outcome, 'failed_closed');
    assert.deepEqual(r.decision.fields, { 'properties.extras.*': 'failed:PHIGATE_ERR_ACTION' });
  });
  test('the next record is unaffected (state is reset)', () => {
    const ok = plan.apply(segment({ properties: { dob: '1984-07-02', extras: { clinic_code: '02139' } } }));
    assert.equal(ok.outcome, 'delivered');
    assert.equal(ok.decision.fields['properties.extras.*'], 'generalize:zip3');
  });
  test('an encryptor failure keeps its own code (value too long for rsa-oaep-256)', () => {
    const enc = destinationFrom(
      `${ENCRYPTION.replace('      active: k1', '      scheme: rsa-oaep-256\n      active: k1')}    fields:\n      properties.notes: encrypt\n`,
    );
    const r = enc.compile(SEGMENT_TYPE).apply(segment({ properties: { notes: 'x'.repeat(400) } }));
    assert.equal(r.outcome, 'failed_closed');
    assert.equal(r.decision.errorCode, 'PHIGATE_ERR_VALUE_TOO_LONG');
    assert.deepEqual(r.decision.fields, { 'properties.notes': 'failed:PHIGATE_ERR_VALUE_TOO_LONG' });
  });
});

describe('record key rule', () => {
  const key = Buffer.from('user-40213');
  test('hash (default): HMAC hex of the UTF-8 key, same as the hash action', () => {
    const d = destinationFrom('    fields: { userId: hash }\n');
    const out = d.transformKey(key);
    const { value } = deliver(d.compile(SEGMENT_TYPE), segment({ userId: 'user-40213' }));
    assert.equal(out?.toString('utf8'), value.userId);
    assert.equal(d.transformKey(null), null);
  });
  test('drop and keep', () => {
    assert.equal(destinationFrom('    key: drop\n').transformKey(key), null);
    assert.equal(destinationFrom('    key: keep\n').transformKey(key), key);
  });
  test('keys differ per destination: pseudonyms cannot be joined', () => {
    const policy = policyFrom(`version: 1
destinations:
  a: { hashKey: { file: TEST-ONLY-a.hmac } }
  b: { hashKey: { file: TEST-ONLY-b.hmac } }
`);
    const [a, b] = policy.destinations;
    assert.notEqual(a?.transformKey(key)?.toString(), b?.transformKey(key)?.toString());
  });
  test('headers: keep / drop', () => {
    assert.equal(destinationFrom('    headers: keep\n').keepHeaders, true);
    assert.equal(destinationFrom('').keepHeaders, false);
  });
});

describe('compile', () => {
  test('one plan per writer type (cached)', () => {
    const d = destinationFrom('');
    assert.equal(d.compile(SEGMENT_TYPE), d.compile(SEGMENT_TYPE));
  });
  test('a recursive schema cannot be planned', async () => {
    const { typeOf } = await import('./support.ts');
    const t = typeOf({
      type: 'record',
      name: 'Node',
      fields: [{ name: 'next', type: ['null', 'Node'], default: null }],
    });
    assert.throws(() => destinationFrom('').compile(t), { code: 'PHIGATE_ERR_PLAN' });
  });
});

describe('custom matchers end to end', () => {
  const matchers = `matchers:
  custom:
    - name: member_id
      keys: [member_number]
      values: '\\bM-[0-9]{8}\\b'
    - name: whole_value
      keys: [loyaltyCard]
      values: '^L[0-9]{6}$'
`;
  const d = destinationFrom(
    '    fields: { properties.notes: allow, properties.searchQuery: allow, properties.extras.*: allow }\n',
    matchers,
  );
  const plan = d.compile(SEGMENT_TYPE);
  test('by key: a custom key drops like any PII name (any spelling)', () => {
    const { value } = deliver(
      plan,
      segment({ properties: { extras: { 'Member-Number': 'x', LOYALTY_CARD: 'y', visit: 'z' } } }),
    );
    assert.deepEqual({ ...(value.properties as { extras: object }).extras }, { visit: 'z' });
  });
  test('by value: matches inside allowed free text are redacted under the matcher name', () => {
    const { value, fields } = deliver(
      plan,
      segment({ properties: { notes: 'member M-20260112 called', searchQuery: 'L123456' } }),
    );
    const p = value.properties as Record<string, unknown>;
    assert.equal(p.notes, 'member [REDACTED:member_id] called');
    assert.equal(p.searchQuery, '[REDACTED:whole_value]');
    assert.equal(fields['properties.notes'], 'redact:member_id');
  });
  test('an anchored pattern only matches a whole value', () => {
    const { value } = deliver(plan, segment({ properties: { notes: 'card L123456 used' } }));
    assert.equal((value.properties as Record<string, unknown>).notes, 'card L123456 used');
  });
});
