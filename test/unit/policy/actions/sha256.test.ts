import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSha256Action } from '../../../../src/policy/actions/sha256.ts';

describe('sha256 action', () => {
  test('golden: email is trimmed and lowercased first', () => {
    const email = createSha256Action('email');
    const expected = '0f723c8a2f31516f9cab0fd1d61c57dedbab0e96809a42e86a454f656fccfc69';
    assert.equal(email('jane.testperson@example.com'), expected);
    assert.equal(email('  Jane.Testperson@Example.com '), expected);
  });
  test('golden: phone is normalized to E.164', () => {
    const phone = createSha256Action('phone');
    const expected = 'ca07ee45842d14a86814bb1e7303dcb78a46b0eb67b80b0732f3117ca6ea14e7';
    assert.equal(phone('+1 (617) 555-0142'), expected);
    assert.equal(phone('+16175550142'), expected);
  });
  test('golden: plain hashes the value as it is', () => {
    assert.equal(
      createSha256Action('plain')('Plain Value'),
      '1c871568aef631fba8788694f7eb919d959b7b130df391d8a4e07fbbe15c5b2d',
    );
  });
  test('an existing 64-hex hash passes as it is', () => {
    const h = 'ca07ee45842d14a86814bb1e7303dcb78a46b0eb67b80b0732f3117ca6ea14e7';
    assert.equal(createSha256Action('email')(h), h);
  });
  test('a phone that cannot become E.164 fails closed', () => {
    assert.throws(() => createSha256Action('phone')('call me maybe'), { code: 'PHIGATE_ERR_ACTION' });
  });
});
