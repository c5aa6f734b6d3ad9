import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompactEncrypt } from 'jose';
import { decryptValue } from '../../../src/crypto/decrypt.ts';
import { createJweEncryptor } from '../../../src/crypto/jwe.ts';
import { createRsaOaepEncryptor } from '../../../src/crypto/rsa-oaep.ts';
import { rsaPair } from './_keys.ts';

const a = rsaPair('a');
const b = rsaPair('b');
const jweA = createJweEncryptor({ kid: 'kid-a', publicKey: a.publicKey });
const jweB = createJweEncryptor({ kid: 'kid-b', publicKey: b.publicKey });
const rsaA = createRsaOaepEncryptor({ kid: 'kid-a', publicKey: a.publicKey });
const map = new Map([
  ['kid-a', a.privateKey],
  ['kid-b', b.privateKey],
]);

function inputError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'PHIGATE_ERR_INPUT');
    assert.match(err.message, message);
    assert.ok(!err.message.includes('Jane'));
    return true;
  });
}

describe('decryptValue', () => {
  test('JWE with a single key, and with a map picking the key by kid', () => {
    assert.equal(decryptValue(jweA.encrypt('Jane Doe'), a.privateKey), 'Jane Doe');
    assert.equal(decryptValue(jweA.encrypt('Jane Doe'), map), 'Jane Doe');
    assert.equal(decryptValue(jweB.encrypt('💊 ünïcode'), map), '💊 ünïcode');
    assert.equal(decryptValue(`  ${jweB.encrypt('')}\r\n`, map), '');
  });

  test('a JWE made by another library (jose) decrypts too', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('Jane Doe'))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'kid-a' })
      .encrypt(a.publicKey);
    assert.equal(decryptValue(jwe, map), 'Jane Doe');
  });

  test('raw base64 RSA-OAEP-256 with a single key or a map (tries the keys)', () => {
    assert.equal(decryptValue(rsaA.encrypt('Jane Doe'), a.privateKey), 'Jane Doe');
    assert.equal(decryptValue(rsaA.encrypt('Jane Doe'), map), 'Jane Doe');
  });

  test('errors name what is wrong', () => {
    const good = jweA.encrypt('Jane Doe');
    const [h, k, iv, ct, tag] = good.split('.') as [string, string, string, string, string];
    const header = (obj: unknown) => Buffer.from(JSON.stringify(obj)).toString('base64url');
    inputError(() => decryptValue('', map), /empty/);
    inputError(() => decryptValue('a.b.c', map), /3 parts; 5 are required/);
    inputError(
      () => decryptValue('not base64 at all!', map),
      /neither a JWE compact serialization nor padded base64/,
    );
    inputError(() => decryptValue(`${h}.${k}.${iv}.${ct}`, map), /4 parts/);
    inputError(
      () => decryptValue(good, new Map([['kid-b', b.privateKey]])),
      /no private key for kid 'kid-a'/,
    );
    inputError(() => decryptValue(good, b.privateKey), /content key does not decrypt.*kid 'kid-a'/);
    inputError(() => decryptValue(`${h}.${k}.${iv}.${ct}x.${tag}`, map), /authentication failed/);
    inputError(() => decryptValue(`${h}.${k}.${iv}.${ct}.${tag.slice(0, -2)}`, map), /tag is not 128 bits/);
    inputError(() => decryptValue(`${h}.${k}.AAAA.${ct}.${tag}`, map), /IV is not 96 bits/);
    inputError(() => decryptValue(`${h}.${k}.${iv}.${ct}.${tag}=`, map), /tag is not base64url/);
    inputError(() => decryptValue(`e30K!.${k}.${iv}.${ct}.${tag}`, map), /protected header is not base64url/);
    inputError(
      () => decryptValue(`bm90IGpzb24.${k}.${iv}.${ct}.${tag}`, map),
      /protected header is not JSON/,
    );
    inputError(() => decryptValue(`${header([1])}.${k}.${iv}.${ct}.${tag}`, map), /not a JSON object/);
    inputError(
      () => decryptValue(`${header({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${k}.${iv}.${ct}.${tag}`, map),
      /alg is not RSA-OAEP-256/,
    );
    inputError(
      () => decryptValue(`${header({ alg: 'RSA-OAEP-256', enc: 'A128GCM' })}.${k}.${iv}.${ct}.${tag}`, map),
      /enc is not A256GCM/,
    );
    inputError(
      () => decryptValue(`${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })}.${k}.${iv}.${ct}.${tag}`, map),
      /no kid/,
    );
    inputError(
      () =>
        decryptValue(
          `${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'kid-a', zip: 'DEF' })}.${k}.${iv}.${ct}.${tag}`,
          map,
        ),
      /zip or crit/,
    );
    inputError(
      () =>
        decryptValue(
          `${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a b\n' })}.${k}.${iv}.${ct}.${tag}`,
          map,
        ),
      /kid \(unprintable\)/,
    );
    // a header swapped for another kid's breaks the AAD binding
    inputError(
      () =>
        decryptValue(
          `${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'kid-a', x: 1 })}.${k}.${iv}.${ct}.${tag}`,
          map,
        ),
      /authentication failed/,
    );
    inputError(
      () => decryptValue(rsaA.encrypt('Jane Doe'), b.privateKey),
      /does not decrypt with the given private key/,
    );
    inputError(
      () => decryptValue(Buffer.alloc(100).toString('base64'), map),
      /100 bytes; no given key has that modulus size/,
    );
  });
});
