import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { describe, test } from 'node:test';
import { compactDecrypt } from 'jose';
import { createJweEncryptor, jweProtectedHeader } from '../../../src/crypto/jwe.ts';
import { countingRandom, rsaPair } from './_keys.ts';

const { publicKey, privateKey } = rsaPair();
const b64u = (s: string) => Buffer.from(s, 'base64url');

async function joseDecrypt(jwe: string): Promise<{ plaintext: string; header: unknown }> {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey);
  return { plaintext: new TextDecoder().decode(plaintext), header: protectedHeader };
}

describe('JWE compact (jwe-compact-rsa-oaep-256-a256gcm/v1)', () => {
  test('jose decrypts it; the protected header is exactly {"alg","enc","kid"} in that order', async () => {
    const enc = createJweEncryptor({ kid: 'mixpanel-2026-11', publicKey });
    assert.equal(enc.kid, 'mixpanel-2026-11');
    assert.equal(enc.scheme, 'jwe');
    for (const value of ['Jane Doe', '', 'M-12345678', '💊 ünïcode', 'x'.repeat(10_000)]) {
      const jwe = enc.encrypt(value);
      const parts = jwe.split('.');
      assert.equal(parts.length, 5);
      assert.equal(
        b64u(parts[0]!).toString('utf8'),
        '{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"mixpanel-2026-11"}',
      );
      const { plaintext, header } = await joseDecrypt(jwe);
      assert.equal(plaintext, value);
      assert.deepEqual(header, { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'mixpanel-2026-11' });
    }
  });

  test('a kid with JSON-special characters is escaped, not injected', async () => {
    const enc = createJweEncryptor({ kid: 'k"},"alg":"none', publicKey });
    const { header } = await joseDecrypt(enc.encrypt('Jane Doe'));
    assert.deepEqual(header, { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k"},"alg":"none' });
  });

  test('within a window the header and encrypted key are shared, IVs are all distinct, all decrypt', async () => {
    const enc = createJweEncryptor({ kid: 'k1', publicKey, maxValues: 500 });
    const values = Array.from({ length: 500 }, (_, i) => `Jane Doe ${i}`);
    const out = values.map((v) => enc.encrypt(v).split('.'));
    assert.equal(new Set(out.map((p) => `${p[0]}.${p[1]}`)).size, 1);
    assert.equal(new Set(out.map((p) => p[2])).size, 500);
    for (const [i, p] of out.entries()) assert.equal((await joseDecrypt(p.join('.'))).plaintext, values[i]);
  });

  test('the window rolls over after maxValues: new CEK, new encrypted key, IV counter restarts', () => {
    let calls = 0;
    const counting = countingRandom();
    const enc = createJweEncryptor({
      kid: 'k1',
      publicKey,
      maxValues: 3,
      now: () => 0,
      randomBytes: (n) => {
        calls++;
        return counting(n);
      },
    });
    const out = Array.from({ length: 7 }, () => enc.encrypt('Jane Doe').split('.'));
    const keys = out.map((p) => p[1]);
    assert.deepEqual(
      keys.map((k) => keys.indexOf(k)),
      [0, 0, 0, 3, 3, 3, 6],
    );
    const counters = out.map((p) => b64u(p[2]!).readUInt32BE(8));
    assert.deepEqual(counters, [0, 1, 2, 0, 1, 2, 0]);
    assert.equal(calls, 3 * 2, 'CEK + IV prefix drawn once per window');
    // Each window has its own CEK, and the encrypted key holds exactly it.
    const cek = (p: string[]) =>
      privateDecrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        b64u(p[1]!),
      );
    assert.notDeepEqual(cek(out[0]!), cek(out[3]!));
  });

  test('the window rolls over after maxAgeMs, and when the clock goes backwards', () => {
    let t = 1_000;
    const enc = createJweEncryptor({ kid: 'k1', publicKey, maxAgeMs: 500, now: () => t });
    const key = () => enc.encrypt('Jane Doe').split('.')[1];
    const first = key();
    t = 1_499;
    assert.equal(key(), first, 'still inside the window');
    t = 1_500;
    const second = key();
    assert.notEqual(second, first, 'age limit reached');
    t = 1_700;
    assert.equal(key(), second);
    t = 1_200;
    assert.notEqual(key(), second, 'clock went backwards');
  });

  test('golden: deterministic CEK and IV prefix pin header, IV, ciphertext and tag; jose decrypts the whole', async () => {
    // countingRandom: CEK = bytes 0x00..0x1f, IV prefix = 0x20 0x21 0x22 0x23, counter from 0.
    const enc = createJweEncryptor({
      kid: 'golden-kid',
      publicKey,
      randomBytes: countingRandom(),
      now: () => 0,
    });
    const first = enc.encrypt('Jane Doe');
    const second = enc.encrypt('jane.doe@example.com');
    const [h1, k1, iv1, ct1, tag1] = first.split('.');
    const [h2, k2, iv2, ct2, tag2] = second.split('.');
    assert.equal(h1, 'eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiZ29sZGVuLWtpZCJ9');
    assert.equal(iv1, 'ICEiIwAAAAAAAAAA');
    // ciphertext and tag cross-checked once with Python's `cryptography` AESGCM.
    assert.equal(ct1, '0n9DKp5i80Q');
    assert.equal(tag1, 'U9Agr6X7W_b5lDlHBFQ1uQ');
    assert.equal(h2, h1);
    assert.equal(k2, k1);
    assert.equal(iv2, 'ICEiIwAAAAAAAAAB');
    assert.equal(ct2, 'A-5V03gFar9GrsM7PEwZO3AdOL4');
    assert.equal(tag2, 'Wr1B_en_6gwAkMwPR3DClw');
    // The RSA-OAEP part is randomized by OpenSSL; it must unwrap to the injected CEK.
    const cek = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      b64u(k1!),
    );
    assert.deepEqual(cek, Buffer.from(Array.from({ length: 32 }, (_, i) => i)));
    assert.equal((await joseDecrypt(first)).plaintext, 'Jane Doe');
    assert.equal((await joseDecrypt(second)).plaintext, 'jane.doe@example.com');
  });

  test('jweProtectedHeader is the exact JSON text', () => {
    assert.equal(jweProtectedHeader('a'), '{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"a"}');
  });

  test('two encryptors never share a CEK (each draws its own)', () => {
    const a = createJweEncryptor({ kid: 'k1', publicKey }).encrypt('Jane Doe').split('.');
    const b = createJweEncryptor({ kid: 'k1', publicKey }).encrypt('Jane Doe').split('.');
    assert.notEqual(a[1], b[1]);
    assert.notEqual(a[3], b[3]);
  });

  test('bad options and keys are refused at creation', () => {
    for (const maxValues of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) {
      assert.throws(() => createJweEncryptor({ kid: 'k', publicKey, maxValues }), {
        code: 'PHIGATE_ERR_POLICY_INVALID',
      });
    }
    for (const maxAgeMs of [0, -5, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createJweEncryptor({ kid: 'k', publicKey, maxAgeMs }), {
        code: 'PHIGATE_ERR_POLICY_INVALID',
      });
    }
    assert.throws(() => createJweEncryptor({ kid: '', publicKey }), { code: 'PHIGATE_ERR_POLICY_INVALID' });
    assert.throws(() => createJweEncryptor({ kid: 'k', publicKey: privateKey }), {
      code: 'PHIGATE_ERR_KEY_MATERIAL',
    });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.throws(() => createJweEncryptor({ kid: 'k', publicKey: ec }), /only RSA/);
    const small = rsaPair('small', 1024).publicKey;
    assert.throws(() => createJweEncryptor({ kid: 'k', publicKey: small }), /1024 bits/);
  });

  test('a failure is a PhiGateError naming the kid, never the value', () => {
    const enc = createJweEncryptor({ kid: 'k1', publicKey, randomBytes: () => Buffer.alloc(1) });
    assert.throws(
      () => enc.encrypt('Jane Doe'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'PHIGATE_ERR_ACTION');
        assert.match(err.message, /k1/);
        assert.ok(!err.message.includes('Jane'));
        return true;
      },
    );
    const ok = createJweEncryptor({ kid: 'k1', publicKey });
    assert.throws(() => ok.encrypt(42 as unknown as string), { code: 'PHIGATE_ERR_ACTION' });
  });
});
