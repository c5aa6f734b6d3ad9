/** The `hash` action: keyed pseudonyms that cannot be enumerated without the destination's key. */
import { hash } from 'node:crypto';
import { PhiGateError } from '../errors.ts';
import { type CryptoBackendName, cryptoBackend, requireNative } from './native.ts';

/** SHA-256 block size: HMAC hashes longer keys down to 32 bytes first (RFC 2104 §2). */
const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;
const IPAD = 0x36;
const OPAD = 0x5c;
/** A UTF-16 code unit never takes more than 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** Room for the message in the inner block each hasher reuses; ids and emails fit many times over. */
const REUSED_MESSAGE_BYTES = 1024;

/**
 * Returns value → HMAC-SHA256(key, UTF-8 value) as lowercase hex (format FORMATS.hmac). The hash
 * action runs it for every id of every event of every destination, so both implementations absorb
 * the key's two padded blocks (RFC 2104: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m))) once per key:
 *
 *   native       native/aead (native.ts): copies of the two absorbed SHA-256 states, one call and no
 *                allocation per value — 0.24 µs (bench/crypto.bench.ts)
 *   node:crypto  two one-shot `crypto.hash` calls over the padded blocks and the value — 0.8 µs, about
 *                half of one `createHmac(...).update(...).digest()`, which builds a stream object and
 *                fetches the MAC from OpenSSL on every call
 *
 * Both are byte-identical to createHmac; the unit tests check them against createHmac and WebCrypto
 * for random keys and values, and against RFC 4231's vectors.
 */
export function createHmacHasher(
  key: Buffer,
  backend: CryptoBackendName = cryptoBackend.name,
): (value: string) => string {
  if (key.length === 0) throw new PhiGateError('PHIGATE_ERR_KEY_MATERIAL', 'HMAC key is empty');
  if (backend === 'native') {
    const native = requireNative('HMAC-SHA256');
    const handle = native.hmacOpen(key); // its states are wiped when the hasher is collected
    return (value: string): string => native.hmac(handle, value);
  }
  const effective = key.length > SHA256_BLOCK_BYTES ? hash('sha256', key, 'buffer') : key;
  // inner: K ⊕ ipad, then the message; outer: K ⊕ opad, then the inner digest.
  const reused = Buffer.alloc(SHA256_BLOCK_BYTES + REUSED_MESSAGE_BYTES, IPAD);
  const outer = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_BYTES, OPAD);
  for (let i = 0; i < effective.length; i++) {
    reused[i] = (effective[i] as number) ^ IPAD;
    outer[i] = (effective[i] as number) ^ OPAD;
  }
  return (value: string): string => {
    const room = SHA256_BLOCK_BYTES + value.length * MAX_UTF8_BYTES_PER_UNIT;
    let inner = reused;
    if (room > reused.length) {
      // a long value gets a buffer of its own, so the hasher never holds more than the reused one
      inner = Buffer.alloc(room);
      reused.copy(inner, 0, 0, SHA256_BLOCK_BYTES);
    }
    const length = inner.write(value, SHA256_BLOCK_BYTES, 'utf8');
    const end = SHA256_BLOCK_BYTES + length;
    // 'binary' (latin1) hands the 32 digest bytes over as a short string, far cheaper than a new Buffer.
    outer.write(hash('sha256', inner.subarray(0, end), 'binary'), SHA256_BLOCK_BYTES, 'binary');
    inner.fill(0, SHA256_BLOCK_BYTES, end); // no copy of the value stays behind
    return hash('sha256', outer, 'hex');
  };
}
