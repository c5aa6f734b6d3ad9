import assert from 'node:assert/strict';
import { createHmac, webcrypto } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createHmacHasher } from '../../../src/crypto/hmac.ts';
import { cryptoBackends } from '../../../src/crypto/native.ts';

const KEY = Buffer.from('phi-gate-test-hmac-key-0123456789abcdef', 'utf8');

/** Computed with WebCrypto: a separate code path from createHmac. */
async function webcryptoHmac(key: Buffer, value: string): Promise<string> {
  const k = await webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return Buffer.from(await webcrypto.subtle.sign('HMAC', k, new TextEncoder().encode(value))).toString('hex');
}

for (const backend of cryptoBackends()) {
  describe(`createHmacHasher (${backend})`, () => {
    test('golden vectors computed with `openssl dgst -sha256 -hmac` (format hmac-sha256-hex/v1)', () => {
      const h = createHmacHasher(KEY, backend);
      assert.equal(
        h('jane.doe@example.com'),
        '4a56ac2a7cc2c5aedc9edfcb9449a1f43a450afb1dbbe74f3d2a0e5d930d199a',
      );
      assert.equal(h('Ünïcødé Jane'), '66309675aa6b846b2fad91db44216b4c8307d87b7d68ca1c1794c9fc363ee66b');
    });

    test('RFC 4231 test cases 2 (short key) and 6 (key longer than the block: pre-hashed)', () => {
      assert.equal(
        createHmacHasher(Buffer.from('Jefe'), backend)('what do ya want for nothing?'),
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      );
      assert.equal(
        createHmacHasher(
          Buffer.alloc(131, 0xaa),
          backend,
        )('Test Using Larger Than Block-Size Key - Hash Key First'),
        '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      );
    });

    test('matches an independent WebCrypto computation for many values and key lengths', async () => {
      for (const keyLength of [32, 64, 65, 200]) {
        const key = Buffer.alloc(keyLength, 7);
        const h = createHmacHasher(key, backend);
        for (const value of ['', 'a', 'Jane Doe', 'x'.repeat(1000), '💊 ünïcode']) {
          assert.equal(h(value), await webcryptoHmac(key, value), `key ${keyLength} bytes`);
        }
      }
    });

    test('equals createHmac for any key and any sequence of values (short, long, lone surrogates)', () => {
      const value = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 300 }), // unpaired surrogates: both write U+FFFD
        fc.string({ maxLength: 2000 }),
      );
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 200 }),
          fc.array(value, { maxLength: 8 }),
          (key, values) => {
            const k = Buffer.from(key);
            const h = createHmacHasher(k, backend);
            for (const v of values) {
              assert.equal(h(v), createHmac('sha256', k).update(v, 'utf8').digest('hex'));
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    test('a long value, then a short one: nothing of the long one is hashed with it', () => {
      const h = createHmacHasher(KEY, backend);
      const expected = createHmac('sha256', KEY).update('Jane', 'utf8').digest('hex');
      h('x'.repeat(10_000));
      assert.equal(h('Jane'), expected);
    });

    test('lowercase hex, 64 chars; different keys give unjoinable pseudonyms', () => {
      const a = createHmacHasher(KEY, backend)('jane.doe@example.com');
      const b = createHmacHasher(Buffer.alloc(32, 1), backend)('jane.doe@example.com');
      assert.match(a, /^[0-9a-f]{64}$/);
      assert.notEqual(a, b);
    });

    test('the hasher keeps its own copy of the key', () => {
      const key = Buffer.from(KEY);
      const h = createHmacHasher(key, backend);
      key.fill(0);
      assert.equal(
        h('jane.doe@example.com'),
        '4a56ac2a7cc2c5aedc9edfcb9449a1f43a450afb1dbbe74f3d2a0e5d930d199a',
      );
    });

    test('an empty key is refused', () => {
      assert.throws(() => createHmacHasher(Buffer.alloc(0), backend), { code: 'PHIGATE_ERR_KEY_MATERIAL' });
    });
  });
}

test('the set-up builds the native HMAC (it is the default where it loads)', () => {
  assert.deepEqual(cryptoBackends(), ['native', 'node:crypto']);
});

test('both implementations give the same pseudonyms for the same key', () => {
  const [a, b] = cryptoBackends().map((backend) => createHmacHasher(KEY, backend));
  for (const v of ['jane.doe@example.com', '', '💊', 'x'.repeat(5000)]) assert.equal(a?.(v), b?.(v));
});
