import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createHmacHasher } from '../../../../src/crypto/index.ts';
import { createHashAction } from '../../../../src/policy/actions/hash.ts';
import { TEST_ENV } from '../support.ts';

const KEY = Buffer.from(TEST_ENV.HK as string, 'utf8');
const hash = createHashAction(createHmacHasher(KEY));

describe('hash action', () => {
  test('golden: HMAC-SHA256 with the destination key, lowercase hex', () => {
    assert.equal(hash('user-40213'), '37928367b28e148698b6951831f2ffac443486e47d9533cfd1563f0b7b2b56b8');
  });
  test('equals an independent HMAC computation', () => {
    assert.equal(
      hash('jane@example.com'),
      createHmac('sha256', KEY).update('jane@example.com', 'utf8').digest('hex'),
    );
  });
  test('non-string scalars hash their text form', () => {
    assert.equal(hash(42), hash('42'));
    assert.equal(hash(true), hash('true'));
    assert.equal(hash(Buffer.from([0xab, 0x01])), hash('ab01'));
  });
  test('a different key gives an unrelated pseudonym', () => {
    const other = createHashAction(createHmacHasher(Buffer.from('another-test-only-key-0123456789abcdef')));
    assert.notEqual(other('user-40213'), hash('user-40213'));
  });
  test('a composite value is refused (fail closed)', () => {
    assert.throws(() => hash({ a: 1 }), { code: 'PHIGATE_ERR_ACTION' });
  });
});
