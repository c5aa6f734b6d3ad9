/**
 * `encrypt` with scheme `jwe`: JWE compact serialization (RFC 7516 §7.1)
 *
 *   BASE64URL(header) . BASE64URL(RSA-OAEP-256(CEK)) . BASE64URL(IV) . BASE64URL(ciphertext) . BASE64URL(tag)
 *
 * header = {"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"<kid>"} (that key order), AES-256-GCM with
 * AAD = ASCII(BASE64URL(header)) (RFC 7516 §5.1 step 14). Any JOSE library decrypts it.
 *
 * Cost: one RSA operation serves a window of values. A content key (CEK) is used for at most
 * `maxValues` values and `maxAgeMs` ms, whichever comes first; then a new CEK is drawn and wrapped.
 * The first two segments are therefore constant within a window; the window's AES-GCM sealer (gcm.ts:
 * one native cipher context per CEK) writes them in front of each value's IV, ciphertext and tag.
 *
 * IV construction (NIST SP 800-38D §8.2.1, deterministic): 4 random bytes drawn with each CEK,
 * then an 8-byte big-endian counter starting at 0. Why not 12 random bytes per value: with random
 * IVs uniqueness is only probable (birthday bound, and it caps a key at 2^32 values), while a
 * counter makes a repeated IV under one CEK impossible by construction — GCM loses confidentiality
 * and integrity on the first repeat. It also saves a CSPRNG call per value. A CEK never outlives its
 * encryptor instance (nothing is persisted or shared across processes), so the counter cannot be
 * replayed; the random prefix is defence in depth should a CEK ever repeat.
 */
import type { KeyObject } from 'node:crypto';
import { constants, randomBytes as cryptoRandomBytes, publicEncrypt } from 'node:crypto';
import { PhiGateError } from '../errors.ts';
import type { Encryptor } from './encryptor.ts';
import { type GcmSealer, openGcm } from './gcm.ts';
import { assertRsaPublicKey } from './keys.ts';

export interface JweOptions {
  kid: string;
  publicKey: KeyObject;
  /** Values per CEK before a new one is drawn. Default 10000; at most 2^32 (SP 800-38D invocation limit). */
  maxValues?: number;
  /** Age of a CEK before a new one is drawn. Default 60000. */
  maxAgeMs?: number;
  /** Monotonic clock in ms; default performance.now (wall-clock jumps must not stretch a window). */
  now?: () => number;
  /**
   * Source of randomness; tests inject a deterministic one. Per window it is called exactly twice,
   * in this order: randomBytes(32) for the CEK, then randomBytes(4) for the IV prefix.
   */
  randomBytes?: (n: number) => Buffer;
}

export const JWE_DEFAULT_MAX_VALUES = 10_000;
export const JWE_DEFAULT_MAX_AGE_MS = 60_000;
const MAX_VALUES_LIMIT = 2 ** 32;
const CEK_BYTES = 32;
const IV_PREFIX_BYTES = 4;
const IV_BYTES = 12;

/** The protected header, byte for byte: JSON.stringify keeps insertion order (alg, enc, kid). */
export function jweProtectedHeader(kid: string): string {
  return JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid });
}

function invalidOption(message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_POLICY_INVALID', `jwe encryptor: ${message}`);
}

export function createJweEncryptor(opts: JweOptions): Encryptor {
  const { kid, publicKey } = opts;
  const maxValues = opts.maxValues ?? JWE_DEFAULT_MAX_VALUES;
  const maxAgeMs = opts.maxAgeMs ?? JWE_DEFAULT_MAX_AGE_MS;
  const now = opts.now ?? performance.now.bind(performance);
  const random = opts.randomBytes ?? cryptoRandomBytes;
  if (typeof kid !== 'string' || kid.length === 0) throw invalidOption('kid must be a non-empty string');
  if (!Number.isSafeInteger(maxValues) || maxValues < 1 || maxValues > MAX_VALUES_LIMIT) {
    throw invalidOption(`maxValues must be an integer from 1 to ${MAX_VALUES_LIMIT}`);
  }
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0) throw invalidOption('maxAgeMs must be a positive number');
  assertRsaPublicKey(publicKey, `public key for kid '${kid}'`);

  const headerSegment = Buffer.from(jweProtectedHeader(kid), 'utf8').toString('base64url');
  const aad = Buffer.from(headerSegment, 'ascii');

  // Window state. Invariant: `counter` < maxValues <= 2^32 while `sealer` (the CEK) is in use, so
  // each (cek, iv) pair is used once.
  let sealer: GcmSealer | undefined;
  let startedAt = 0;
  let counter = 0;
  const iv = Buffer.alloc(IV_BYTES); // reused: each seal reads it at once

  function startWindow(at: number): void {
    const cekBytes = random(CEK_BYTES);
    const ivPrefix = random(IV_PREFIX_BYTES);
    if (cekBytes.length !== CEK_BYTES || ivPrefix.length !== IV_PREFIX_BYTES) {
      throw new Error('randomBytes returned the wrong length');
    }
    const wrapped = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, // MGF1 uses oaepHash too
      cekBytes,
    );
    sealer?.close();
    sealer = undefined; // should opening fail, the next value starts a window again
    // every value: "<header>.<encrypted key>." (the window's constant part), then IV, ciphertext, tag
    sealer = openGcm(cekBytes, aad, { prefix: `${headerSegment}.${wrapped.toString('base64url')}.` });
    cekBytes.fill(0); // the sealer holds the key now
    ivPrefix.copy(iv, 0);
    startedAt = at;
    counter = 0;
  }

  function encrypt(plaintext: string): string {
    try {
      if (typeof plaintext !== 'string') throw new TypeError('plaintext must be a string');
      const at = now();
      // A clock that went backwards also ends the window: age is then unknown.
      if (sealer === undefined || counter >= maxValues || at - startedAt >= maxAgeMs || at < startedAt) {
        startWindow(at);
      }
      iv.writeUInt32BE(Math.floor(counter / 2 ** 32), IV_PREFIX_BYTES);
      iv.writeUInt32BE(counter >>> 0, IV_PREFIX_BYTES + 4);
      counter++;
      return (sealer as GcmSealer).seal(iv, plaintext);
    } catch (err) {
      // Never the value in the message; the cause is a crypto/TypeError without payload bytes.
      throw new PhiGateError('PHIGATE_ERR_ACTION', `jwe encryption failed for kid '${kid}'`, { cause: err });
    }
  }

  return Object.freeze({ kid, scheme: 'jwe' as const, encrypt });
}
