import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { openGcm } from '../../../src/crypto/gcm.ts';
import { cryptoBackend, cryptoBackends } from '../../../src/crypto/native.ts';

// RFC 7516 Appendix A.1: the content key, IV, AAD and plaintext, and the ciphertext and tag they give
const RFC = {
  cek: Buffer.from([
    177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246, 138, 7, 110, 91, 112, 46, 34,
    105, 47, 130, 203, 46, 122, 234, 64, 252,
  ]),
  iv: Buffer.from([227, 197, 117, 252, 2, 219, 233, 68, 180, 225, 77, 219]),
  aad: Buffer.from('eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ', 'ascii'),
  plaintext: 'The true sign of intelligence is not knowledge but imagination.',
  ciphertext: '5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A',
  tag: 'XFBoMYUZodetZdvTiFvSkQ',
};

function open(sealed: string, key: Buffer, aad: Buffer): string {
  const [iv, ciphertext, tag] = sealed.split('.').map((s) => Buffer.from(s, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}

describe('AES-256-GCM sealers', () => {
  test('the set-up builds the native one (it is the default where it loads)', () => {
    // make setup builds native/aead; a machine without it falls back, and this says so
    assert.deepEqual(cryptoBackends(), ['native', 'node:crypto'], cryptoBackend.reason);
    assert.equal(cryptoBackend.name, 'native');
  });

  for (const backend of cryptoBackends()) {
    describe(backend, () => {
      test('matches RFC 7516 Appendix A.1', () => {
        const sealer = openGcm(RFC.cek, RFC.aad, { backend });
        assert.equal(
          sealer.seal(RFC.iv, RFC.plaintext),
          `${RFC.iv.toString('base64url')}.${RFC.ciphertext}.${RFC.tag}`,
        );
      });

      test('one key, many IVs: each value opens with its own IV, the key and the AAD', () => {
        const key = randomBytes(32);
        const aad = Buffer.from('eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiazEifQ');
        const sealer = openGcm(key, aad, { backend });
        const values = ['', 'a', 'Jane Example', 'ü€😀 not ASCII', 'x'.repeat(5000), '\u0000'];
        const iv = Buffer.alloc(12);
        values.forEach((v, i) => {
          iv.writeUInt32BE(i, 8);
          const sealed = sealer.seal(iv, v);
          assert.equal(sealed.split('.')[0], iv.toString('base64url'));
          assert.equal(open(sealed, key, aad), v);
          assert.throws(() => open(sealed, key, Buffer.from('another header')));
        });
      });

      test('the caller may wipe its key after opening; a closed sealer refuses to seal', () => {
        const key = randomBytes(32);
        const copy = Buffer.from(key);
        const sealer = openGcm(key, Buffer.alloc(0), { backend });
        key.fill(0);
        const sealed = sealer.seal(Buffer.alloc(12, 7), 'Jane Example');
        assert.equal(open(sealed, copy, Buffer.alloc(0)), 'Jane Example');
        sealer.close();
        assert.throws(() => sealer.seal(Buffer.alloc(12, 8), 'Jane Example'), /closed/);
      });

      test('the prefix leads every sealed value; it must be printable ASCII', () => {
        const sealer = openGcm(RFC.cek, RFC.aad, { prefix: 'header.key.', backend });
        assert.equal(
          sealer.seal(RFC.iv, RFC.plaintext),
          `header.key.${RFC.iv.toString('base64url')}.${RFC.ciphertext}.${RFC.tag}`,
        );
        assert.throws(() => openGcm(RFC.cek, RFC.aad, { prefix: 'é', backend }), /printable ASCII/);
      });

      test('wrong key and IV sizes are refused', () => {
        assert.throws(() => openGcm(Buffer.alloc(16), Buffer.alloc(0), { backend }), /32-byte/);
        const sealer = openGcm(Buffer.alloc(32), Buffer.alloc(0), { backend });
        assert.throws(() => sealer.seal(Buffer.alloc(16), 'x'), /12 bytes/);
      });
    });
  }

  test('both give the same bytes for the same key, IV, AAD and value', () => {
    const key = randomBytes(32);
    const aad = randomBytes(40);
    const [a, b] = cryptoBackends().map((backend) => openGcm(key, aad, { prefix: 'eyJ.a2V5.', backend })) as [
      ReturnType<typeof openGcm>,
      ReturnType<typeof openGcm>,
    ];
    for (let i = 0; i < 2000; i++) {
      const iv = randomBytes(12);
      const value = randomBytes(i % 300).toString('latin1') + (i % 7 === 0 ? '€😀' : '');
      assert.equal(a.seal(iv, value), b.seal(iv, value));
    }
  });
});
