import assert from 'node:assert/strict';
import { constants, privateDecrypt } from 'node:crypto';
import { describe, test } from 'node:test';
import { createRsaOaepEncryptor } from '../../../src/crypto/rsa-oaep.ts';
import { rsaPair } from './_keys.ts';

const { publicKey, privateKey } = rsaPair();
const decrypt = (b64: string) =>
  privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(b64, 'base64'),
  ).toString('utf8');

describe('rsa-oaep-256 (rsa-oaep-256-base64/v1)', () => {
  const enc = createRsaOaepEncryptor({ kid: 'segment-2026', publicKey });

  test('standard padded base64 of one RSA block that privateDecrypt (OAEP SHA-256) opens', () => {
    assert.equal(enc.kid, 'segment-2026');
    assert.equal(enc.scheme, 'rsa-oaep-256');
    for (const value of ['Jane Doe', '', '💊 ünïcode']) {
      const out = enc.encrypt(value);
      assert.match(out, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.equal(out.length % 4, 0);
      assert.equal(Buffer.from(out, 'base64').length, 256);
      assert.equal(decrypt(out), value);
    }
  });

  test('randomized: the same value encrypts differently each time', () => {
    assert.notEqual(enc.encrypt('Jane Doe'), enc.encrypt('Jane Doe'));
  });

  test('the limit is modulusBytes - 66 UTF-8 bytes (190 for 2048-bit); longer fails closed without the value', () => {
    assert.equal(decrypt(enc.encrypt('a'.repeat(190))), 'a'.repeat(190));
    const tooLong = `Jane Doe ${'b'.repeat(182)}`; // 191 bytes
    assert.throws(
      () => enc.encrypt(tooLong),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'PHIGATE_ERR_VALUE_TOO_LONG');
        assert.ok(!err.message.includes('Jane'));
        assert.match(err.message, /190/);
        return true;
      },
    );
    // Multi-byte characters count as bytes: 64 × 3 bytes = 192 > 190.
    assert.throws(() => enc.encrypt('€'.repeat(64)), { code: 'PHIGATE_ERR_VALUE_TOO_LONG' });
  });

  test('the limit follows the modulus (3072-bit: 318 bytes)', () => {
    const big = rsaPair('big', 3072);
    const e = createRsaOaepEncryptor({ kid: 'k', publicKey: big.publicKey });
    assert.ok(e.encrypt('c'.repeat(318)));
    assert.throws(() => e.encrypt('c'.repeat(319)), { code: 'PHIGATE_ERR_VALUE_TOO_LONG' });
  });

  test('weak or wrong keys are refused at creation', () => {
    assert.throws(() => createRsaOaepEncryptor({ kid: 'k', publicKey: rsaPair('small', 1024).publicKey }), {
      code: 'PHIGATE_ERR_KEY_MATERIAL',
    });
    assert.throws(() => createRsaOaepEncryptor({ kid: 'k', publicKey: privateKey }), {
      code: 'PHIGATE_ERR_KEY_MATERIAL',
    });
    assert.throws(() => createRsaOaepEncryptor({ kid: '', publicKey }), {
      code: 'PHIGATE_ERR_POLICY_INVALID',
    });
  });
});
