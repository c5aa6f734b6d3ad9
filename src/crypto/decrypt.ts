/**
 * The destination owner's side (used by `phi-gate decrypt` and tests): turns a phi-gate ciphertext
 * back into its value. Accepts both encrypt formats. Errors are PHIGATE_ERR_INPUT and say what is
 * wrong with the value, never what it contains.
 */
import { constants, createDecipheriv, KeyObject, privateDecrypt } from 'node:crypto';
import { PhiGateError } from '../errors.ts';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/** A kid comes from the value itself: echo it only when it looks like one. */
const PRINTABLE_KID = /^[A-Za-z0-9._:@-]{1,128}$/;
function showKid(kid: unknown): string {
  return typeof kid === 'string' && PRINTABLE_KID.test(kid) ? `'${kid}'` : '(unprintable)';
}

type PrivateKeys = ReadonlyMap<string, KeyObject> | KeyObject;

function inputError(message: string, cause?: unknown): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_INPUT', message, cause === undefined ? undefined : { cause });
}

function segment(part: string, name: string): Buffer {
  if (!BASE64URL.test(part)) throw inputError(`JWE ${name} is not base64url`);
  return Buffer.from(part, 'base64url');
}

function parseHeader(part: string): {
  alg?: unknown;
  enc?: unknown;
  kid?: unknown;
  zip?: unknown;
  crit?: unknown;
} {
  let header: unknown;
  try {
    header = JSON.parse(segment(part, 'protected header').toString('utf8'));
  } catch (err) {
    if (err instanceof PhiGateError) throw err;
    throw inputError('JWE protected header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw inputError('JWE protected header is not a JSON object');
  }
  return header as Record<string, unknown>;
}

function pickJweKey(kid: unknown, keys: PrivateKeys): KeyObject {
  if (keys instanceof KeyObject) return keys;
  if (typeof kid !== 'string') throw inputError('JWE header has no kid, and a key map was given');
  const key = keys.get(kid);
  if (key === undefined) throw inputError(`no private key for kid ${showKid(kid)}`);
  return key;
}

function decryptJwe(parts: string[], keys: PrivateKeys): string {
  const [headerPart = '', keyPart = '', ivPart = '', ctPart = '', tagPart = ''] = parts;
  const header = parseHeader(headerPart);
  if (header.alg !== 'RSA-OAEP-256') throw inputError('JWE alg is not RSA-OAEP-256');
  if (header.enc !== 'A256GCM') throw inputError('JWE enc is not A256GCM');
  if (header.zip !== undefined || header.crit !== undefined)
    throw inputError('JWE uses zip or crit, which phi-gate never writes');
  const key = pickJweKey(header.kid, keys);
  const wrapped = segment(keyPart, 'encrypted key');
  const iv = segment(ivPart, 'IV');
  const ciphertext = segment(ctPart, 'ciphertext');
  const tag = segment(tagPart, 'tag');
  if (iv.length !== 12) throw inputError('JWE IV is not 96 bits');
  if (tag.length !== 16) throw inputError('JWE tag is not 128 bits');
  const kidNote = header.kid === undefined ? '' : ` (value's kid ${showKid(header.kid)})`;
  let cek: Buffer;
  try {
    cek = privateDecrypt({ key, ...OAEP }, wrapped);
  } catch (err) {
    throw inputError(`JWE content key does not decrypt with the given private key${kidNote}`, err);
  }
  if (cek.length !== 32) throw inputError('JWE content key is not 256 bits');
  try {
    const decipher = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(headerPart, 'ascii'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (err) {
    throw inputError('JWE authentication failed: the value was altered or truncated', err);
  }
}

function decryptRsaOaep(value: string, keys: PrivateKeys): string {
  if (!BASE64.test(value)) throw inputError('value is neither a JWE compact serialization nor padded base64');
  const block = Buffer.from(value, 'base64');
  // Raw RSA-OAEP carries no kid: try each key whose modulus matches the block size. OAEP's padding
  // check rejects a wrong key with overwhelming probability.
  const candidates = keys instanceof KeyObject ? [keys] : [...keys.values()];
  const sized = candidates.filter(
    (k) => Math.ceil((k.asymmetricKeyDetails?.modulusLength ?? 0) / 8) === block.length,
  );
  if (sized.length === 0)
    throw inputError(`rsa-oaep-256 value is ${block.length} bytes; no given key has that modulus size`);
  for (const key of sized) {
    try {
      return privateDecrypt({ key, ...OAEP }, block).toString('utf8');
    } catch {
      // next key
    }
  }
  throw inputError('rsa-oaep-256 value does not decrypt with the given private key(s)');
}

/**
 * Decrypts a JWE compact value (5 dot-separated parts; with a map, the key is picked by the
 * header's kid; with a single key, that key is used) or a raw base64 RSA-OAEP-256 value.
 * Surrounding whitespace is ignored.
 */
export function decryptValue(value: string, privateKeys: ReadonlyMap<string, KeyObject> | KeyObject): string {
  if (typeof value !== 'string') throw inputError('value is not a string');
  const trimmed = value.trim();
  if (trimmed.length === 0) throw inputError('value is empty');
  if (trimmed.includes('.')) {
    const parts = trimmed.split('.');
    if (parts.length !== 5) throw inputError(`JWE compact has ${parts.length} parts; 5 are required`);
    return decryptJwe(parts, privateKeys);
  }
  return decryptRsaOaep(trimmed, privateKeys);
}
