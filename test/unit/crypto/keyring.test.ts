import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compactDecrypt } from 'jose';
import { decryptValue } from '../../../src/crypto/decrypt.ts';
import { createKeyring } from '../../../src/crypto/keyring.ts';
import { rsaPair } from './_keys.ts';

const old = rsaPair('old');
const current = rsaPair('current');
const keys = [
  { kid: 'dest-2026-10', publicKey: old.publicKey },
  { kid: 'dest-2026-11', publicKey: current.publicKey },
];

describe('createKeyring', () => {
  test('jwe: the active key encrypts and the ciphertext names its kid; all kids are listed', async () => {
    const ring = createKeyring({ scheme: 'jwe', active: 'dest-2026-11', keys });
    assert.deepEqual(ring.kids, ['dest-2026-10', 'dest-2026-11']);
    assert.equal(ring.active.kid, 'dest-2026-11');
    assert.equal(ring.active.scheme, 'jwe');
    const { plaintext, protectedHeader } = await compactDecrypt(
      ring.active.encrypt('Jane Doe'),
      current.privateKey,
    );
    assert.equal(new TextDecoder().decode(plaintext), 'Jane Doe');
    assert.equal(protectedHeader.kid, 'dest-2026-11');
  });

  test('jwe: window options reach the encryptor', () => {
    const ring = createKeyring({ scheme: 'jwe', active: 'dest-2026-10', keys, maxValues: 2 });
    const segs = [1, 2, 3].map(() => ring.active.encrypt('Jane Doe').split('.')[1]);
    assert.equal(segs[0], segs[1]);
    assert.notEqual(segs[1], segs[2]);
  });

  test('rsa-oaep-256: the active key encrypts', () => {
    const ring = createKeyring({ scheme: 'rsa-oaep-256', active: 'dest-2026-10', keys });
    assert.equal(ring.active.scheme, 'rsa-oaep-256');
    assert.equal(decryptValue(ring.active.encrypt('Jane Doe'), old.privateKey), 'Jane Doe');
  });

  test('an unknown active kid, a duplicate kid, no keys, a weak listed key: KEY_MATERIAL errors', () => {
    assert.throws(() => createKeyring({ scheme: 'jwe', active: 'dest-2027-01', keys }), {
      code: 'PHIGATE_ERR_KEY_MATERIAL',
      message: "keyring: active kid 'dest-2027-01' is not among the listed keys",
    });
    assert.throws(
      () => createKeyring({ scheme: 'jwe', active: 'dest-2026-10', keys: [keys[0]!, keys[0]!] }),
      /listed twice/,
    );
    assert.throws(() => createKeyring({ scheme: 'jwe', active: 'x', keys: [] }), /no keys/);
    const weak = { kid: 'weak', publicKey: rsaPair('small', 1024).publicKey };
    assert.throws(
      () => createKeyring({ scheme: 'jwe', active: 'dest-2026-10', keys: [...keys, weak] }),
      /'weak'.*1024 bits/,
    );
  });
});
