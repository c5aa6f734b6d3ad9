/**
 * native/aead's handles (src/crypto/native.ts): each kind is refused by the other kind's functions —
 * never reinterpreted as the other's memory — and a closed handle is refused. What the functions
 * compute is checked with the implementations that use them (gcm.test.ts, hmac.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkNative, nativeCrypto } from '../../../src/crypto/native.ts';

describe('native/aead handles', { skip: nativeCrypto === undefined && 'native/aead is not built' }, () => {
  const native = nativeCrypto as NonNullable<typeof nativeCrypto>;
  const sealer = () => native.open(Buffer.alloc(32, 1), Buffer.from('aad'), Buffer.alloc(0));
  const hmacKey = () => native.hmacOpen(Buffer.alloc(32, 2));
  const iv = Buffer.alloc(12);

  test('a sealer is not an HMAC key, nor the other way round', () => {
    assert.throws(() => native.hmac(sealer(), 'jane'), {
      code: 'PHIGATE_ERR_GCM',
      message: 'not an HMAC key',
    });
    assert.throws(() => native.hmacClose(sealer()), /not an HMAC key/);
    assert.throws(() => native.seal(hmacKey(), iv, 'jane'), /not a sealer/);
    assert.throws(() => native.close(hmacKey()), /not a sealer/);
  });

  test('plain objects and other values are refused', () => {
    for (const bogus of [{}, null, 1, 'x', Buffer.alloc(8)]) {
      assert.throws(() => native.hmac(bogus as object, 'jane'), /not an HMAC key/);
      assert.throws(() => native.seal(bogus as object, iv, 'jane'), /not a sealer/);
    }
  });

  test('a closed handle is refused', () => {
    const k = hmacKey();
    assert.match(native.hmac(k, 'jane'), /^[0-9a-f]{64}$/);
    native.hmacClose(k);
    assert.throws(() => native.hmac(k, 'jane'), /the HMAC key is closed/);
    const s = sealer();
    native.close(s);
    assert.throws(() => native.seal(s, iv, 'jane'), /the sealer is closed/);
  });

  test('bad arguments are refused', () => {
    assert.throws(() => native.hmacOpen(Buffer.alloc(0)), /non-empty Buffer/);
    assert.throws(() => native.hmacOpen('key' as unknown as Buffer), /non-empty Buffer/);
    assert.throws(() => native.hmac(hmacKey(), 42 as unknown as string), /must be a string/);
  });
});

test('a native build older than the code is not used at all, and says why', () => {
  const old = { open() {}, seal() {}, close() {} }; // before HMAC was added
  assert.deepEqual(checkNative(old), {
    reason: 'native/aead is out of date, without hmacOpen, hmac, hmacClose: rebuild it',
  });
  assert.ok('reason' in checkNative(undefined));
  if (nativeCrypto !== undefined)
    assert.equal((checkNative(nativeCrypto) as { module: object }).module, nativeCrypto);
});
