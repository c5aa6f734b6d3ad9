import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decryptValue } from '../../../src/crypto/decrypt.ts';
import { createJweEncryptor } from '../../../src/crypto/jwe.ts';
import { defaultKid, generateKeyPair, KEYGEN_RSA_BITS } from '../../../src/crypto/keygen.ts';
import { loadPrivateKey, loadPublicKey } from '../../../src/crypto/keys.ts';
import { tempDir } from '../../helpers/temp.ts';

const dir = tempDir('keygen');

describe('generateKeyPair', () => {
  test('writes a 3072-bit pair that phi-gate loads and that round-trips; modes 0600 / 0644', async () => {
    const out = join(dir, 'new/keys'); // created, mode 0700
    const pair = await generateKeyPair(out, 'dest-2026-11');
    assert.deepEqual(pair, {
      kid: 'dest-2026-11',
      privateKeyPath: join(out, 'dest-2026-11.key.pem'),
      publicKeyPath: join(out, 'dest-2026-11.pub.pem'),
    });
    assert.equal(statSync(pair.privateKeyPath).mode & 0o777, 0o600);
    assert.equal(statSync(pair.publicKeyPath).mode & 0o777, 0o644);
    assert.equal(statSync(out).mode & 0o777, 0o700);
    assert.match(readFileSync(pair.privateKeyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const publicKey = loadPublicKey({ file: pair.publicKeyPath }, { baseDir: dir, env: {} });
    assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, KEYGEN_RSA_BITS);
    const jwe = createJweEncryptor({ kid: pair.kid, publicKey }).encrypt('Jane Doe');
    assert.equal(decryptValue(jwe, loadPrivateKey(pair.privateKeyPath)), 'Jane Doe');
  });

  test('refuses to overwrite either file and leaves no new file behind', async () => {
    writeFileSync(join(dir, 'taken.pub.pem'), 'existing');
    await assert.rejects(generateKeyPair(dir, 'taken'), {
      code: 'PHIGATE_ERR_INPUT',
      message: `refusing to overwrite existing file '${join(dir, 'taken.pub.pem')}'`,
    });
    assert.equal(existsSync(join(dir, 'taken.key.pem')), false);
    assert.equal(readFileSync(join(dir, 'taken.pub.pem'), 'utf8'), 'existing');
  });

  test('a kid that is not a safe file name is refused', async () => {
    for (const kid of ['../escape', '.hidden', 'a/b', '', 'x'.repeat(129)]) {
      await assert.rejects(generateKeyPair(dir, kid), { code: 'PHIGATE_ERR_USAGE' }, kid);
    }
  });

  test('default kid is key-<YYYYMMDD>-<6 hex> (UTC)', () => {
    assert.match(defaultKid(new Date('2026-11-22T23:59:00Z')), /^key-20261122-[0-9a-f]{6}$/);
    assert.notEqual(defaultKid(), defaultKid());
  });
});
