import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSha256Hasher, normalizePhone } from '../../../src/crypto/sha256.ts';

// Golden values computed with coreutils: printf '%s' VALUE | sha256sum
const JANE_EMAIL = '86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d'; // jane.doe@example.com
const US_PHONE = '1967dd8f4b44678ba10eaff05f8ceabcc7268d481f2a637b3dc75d85f3199244'; // +16505550100
const UK_PHONE = '543f9cda443b9c55ebcf8ab34b586f9dc34948776b73de02393c41d5f8edc356'; // +442079460000

describe('sha256 email (sha256-email-hex/v1)', () => {
  const h = createSha256Hasher('email');
  test('trim + lowercase, golden hex', () => {
    for (const v of ['jane.doe@example.com', ' Jane.Doe@Example.COM ', '\tJANE.DOE@EXAMPLE.COM\n']) {
      assert.equal(h(v), JANE_EMAIL, JSON.stringify(v));
    }
  });
  test('an existing 64-hex hash passes through lowercased, not hashed twice', () => {
    assert.equal(h(JANE_EMAIL), JANE_EMAIL);
    assert.equal(h(` ${JANE_EMAIL.toUpperCase()} `), JANE_EMAIL);
  });
  test('63 or 65 hex chars are not a hash: hashed', () => {
    assert.notEqual(h(JANE_EMAIL.slice(1)), JANE_EMAIL.slice(1));
    assert.match(h(`${JANE_EMAIL}a`), /^[0-9a-f]{64}$/);
    assert.notEqual(h(`${JANE_EMAIL}a`), `${JANE_EMAIL}a`);
  });
});

describe('sha256 phone (sha256-phone-e164-hex/v1)', () => {
  const h = createSha256Hasher('phone');
  test('E.164 from common formats, golden hex', () => {
    for (const v of [
      '+1 650 555 0100',
      '+1 (650) 555-0100',
      '+1.650.555.0100',
      '001 650 555 0100',
      '+16505550100',
    ]) {
      assert.equal(h(v), US_PHONE, v);
    }
    for (const v of ['+44 20 7946 0000', '0044 20 7946 0000', '+44 (0)20 7946 0000', '+44-20-7946-0000']) {
      assert.equal(h(v), UK_PHONE, v);
    }
  });
  test('no country code: the digits are taken to start with one (documented), so 1 650… is +1 650…', () => {
    assert.equal(normalizePhone('1 (650) 555-0100'), '+16505550100');
    assert.equal(h('16505550100'), US_PHONE);
    // A US number written nationally becomes a different (non-matching) E.164 number — no guessing.
    assert.equal(normalizePhone('(650) 555-0100'), '+6505550100');
  });
  test('what cannot be E.164 fails (caller fails closed); the message has no value', () => {
    for (const v of [
      '020 7946 0000',
      'n/a',
      '',
      '+1 650 555 0100 ext 12',
      '+1 650 CALL NOW',
      '12345',
      '+1234567890123456',
      '1+650',
    ]) {
      assert.throws(
        () => h(v),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'PHIGATE_ERR_ACTION');
          if (v.length > 0) assert.ok(!err.message.includes(v));
          return true;
        },
        JSON.stringify(v),
      );
    }
  });
  test('an existing 64-hex hash passes through', () => {
    assert.equal(h(US_PHONE.toUpperCase()), US_PHONE);
  });
});

describe('sha256 plain (sha256-plain-hex/v1)', () => {
  const h = createSha256Hasher('plain');
  test('hashes the value as it is, golden hex (FIPS 180-2 "abc" and a UTF-8 value)', () => {
    assert.equal(h('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(h('Jane Doe'), '01332c876518a793b7c1b8dfaf6d4b404ff5db09b21c6627ca59710cc24f696a');
    assert.equal(h('Ünïcødé Jane'), '74d59ad61403e0a243c9f4879f0908785bf3dd8af816c59622c23a54bf199b16');
    assert.notEqual(h(' Jane Doe'), h('Jane Doe'));
  });
  test('only an exact 64-hex value passes through', () => {
    assert.equal(h(JANE_EMAIL.toUpperCase()), JANE_EMAIL);
    assert.notEqual(h(` ${JANE_EMAIL}`), JANE_EMAIL);
  });
});

test('an unknown normalization is refused at creation', () => {
  assert.throws(() => createSha256Hasher('zip' as never), { code: 'PHIGATE_ERR_POLICY_INVALID' });
});
