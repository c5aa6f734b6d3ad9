/**
 * AES-256-GCM for JWE values (jwe.ts): one content key and one AAD (the protected header), many
 * values each under its own IV. Two implementations of the one function, the same bytes out:
 *
 *   native       native/aead (OpenSSL's EVP, the copy inside the running Node binary): one cipher
 *                context per key, reused for every value; 0.26 µs a value (bench/crypto.bench.ts)
 *   node:crypto  a cipher object per value, as node:crypto requires (one IV per cipher object);
 *                3.1 µs a value, most of it the object's set-up: the largest single cost of a
 *                pipeline that encrypts (BENCHMARKS.md)
 *
 * The native module is built by the set-up (deploy/local/deps.sh) and in the image; where it is
 * missing or does not load, node:crypto serves and `cryptoBackend.reason` says why (native.ts).
 * Neither chooses an IV: the caller's IVs must never repeat under a key (jwe.ts counts them).
 * test/unit/crypto/gcm.test.ts pins both to RFC 7516 Appendix A.1 and to each other.
 */
import { createCipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { type CryptoBackendName, cryptoBackend, requireNative } from './native.ts';

export interface GcmSealer {
  /** The sealer's prefix, then `BASE64URL(iv).BASE64URL(ciphertext).BASE64URL(tag)` of one UTF-8 value. */
  seal(iv: Buffer, plaintext: string): string;
  /** Frees the key at once (the native context wipes its key schedule); sealing after it throws. */
  close(): void;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface GcmOptions {
  /**
   * Printable ASCII put in front of every sealed value (a JWE's "header.encrypted-key."): the native
   * sealer writes it into the one string it returns, where a JavaScript concatenation would make a
   * rope that the Avro writer copies flat again.
   */
  readonly prefix?: string;
  readonly backend?: CryptoBackendName;
}

/** A sealer for one 32-byte key and AAD. The caller may wipe `key` afterwards: neither keeps it. */
export function openGcm(key: Buffer, aad: Buffer, options: GcmOptions = {}): GcmSealer {
  const { prefix = '', backend = cryptoBackend.name } = options;
  if (key.length !== KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  if (!/^[\x20-\x7e]*$/.test(prefix)) throw new RangeError('the prefix must be printable ASCII');
  if (backend === 'native') {
    const aead = requireNative('AES-GCM');
    const handle = aead.open(key, aad, Buffer.from(prefix, 'latin1'));
    return { seal: (iv, plaintext) => aead.seal(handle, iv, plaintext), close: () => aead.close(handle) };
  }
  let cek: KeyObject | undefined = createSecretKey(Buffer.from(key)); // a copy: the caller may wipe its own
  const header = Buffer.from(aad);
  return {
    seal: (iv, plaintext) => {
      if (cek === undefined) throw new Error('the sealer is closed');
      const { ciphertext, tag } = sealA256Gcm(cek, iv, header, plaintext);
      return `${prefix}${iv.toString('base64url')}.${ciphertext}.${tag}`;
    },
    close: () => {
      cek = undefined;
    },
  };
}

/** AES-256-GCM of one value with node:crypto: the ciphertext and tag segments (base64url). */
function sealA256Gcm(
  cek: KeyObject | Buffer,
  iv: Buffer,
  aad: Buffer,
  plaintext: string,
): { ciphertext: string; tag: string } {
  if (iv.length !== IV_BYTES) throw new RangeError('the IV must be 12 bytes');
  const cipher = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const head = cipher.update(plaintext, 'utf8');
  const tail = cipher.final(); // GCM is a stream mode: empty, but finalization computes the tag
  const body = tail.length === 0 ? head : Buffer.concat([head, tail]);
  return { ciphertext: body.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
}
