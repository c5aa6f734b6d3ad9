/** The `hash` action: keyed pseudonyms that cannot be enumerated without the destination's key. */
import { createHmac, createSecretKey, hash } from 'node:crypto';
import { PhiGateError } from '../errors.ts';

/** SHA-256 block size: HMAC hashes longer keys down to 32 bytes first (RFC 2104 §2). */
const SHA256_BLOCK_BYTES = 64;

/**
 * Returns value → HMAC-SHA256(key, UTF-8 value) as lowercase hex (format FORMATS.hmac).
 * The key becomes a KeyObject once; a key longer than the block size is pre-hashed once here,
 * exactly as HMAC would do on every call, so the output is identical and cheaper.
 */
export function createHmacHasher(key: Buffer): (value: string) => string {
  if (key.length === 0) throw new PhiGateError('PHIGATE_ERR_KEY_MATERIAL', 'HMAC key is empty');
  const effective = key.length > SHA256_BLOCK_BYTES ? hash('sha256', key, 'buffer') : key;
  const keyObject = createSecretKey(Buffer.from(effective));
  return (value: string): string => createHmac('sha256', keyObject).update(value, 'utf8').digest('hex');
}
