import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKeyring, loadPublicKey } from '../../../../src/crypto/index.ts';
import { createEncryptAction } from '../../../../src/policy/actions/encrypt.ts';
import { decrypt, KEYS } from '../support.ts';

const publicKey = loadPublicKey({ file: 'TEST-ONLY-rsa-2048.pub.pem' }, { baseDir: KEYS, env: {} });

describe('encrypt action', () => {
  test('jwe: compact JWE with the RSA-OAEP-256/A256GCM header and the kid; decrypts to the value', () => {
    const ring = createKeyring({ scheme: 'jwe', active: 'k1', keys: [{ kid: 'k1', publicKey }] });
    const enc = createEncryptAction(ring.active);
    const out = enc('MRN-00482913');
    const parts = out.split('.');
    assert.equal(parts.length, 5);
    assert.deepEqual(JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString()), {
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
      kid: 'k1',
    });
    assert.equal(decrypt(out), 'MRN-00482913');
    assert.equal(decrypt(enc(1984)), '1984');
  });
  test('jwe: a fresh IV per value, so equal values encrypt differently', () => {
    const ring = createKeyring({ scheme: 'jwe', active: 'k1', keys: [{ kid: 'k1', publicKey }] });
    const enc = createEncryptAction(ring.active);
    assert.notEqual(enc('same'), enc('same'));
  });
  test('rsa-oaep-256: base64 of one RSA block; too long a value fails closed', () => {
    const ring = createKeyring({ scheme: 'rsa-oaep-256', active: 'k1', keys: [{ kid: 'k1', publicKey }] });
    const enc = createEncryptAction(ring.active);
    assert.equal(decrypt(enc('I10 essential hypertension')), 'I10 essential hypertension');
    assert.throws(() => enc('x'.repeat(1000)), { code: 'PHIGATE_ERR_VALUE_TOO_LONG' });
  });
});
