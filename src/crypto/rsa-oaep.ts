/**
 * `encrypt` with scheme `rsa-oaep-256`: standard padded base64 of RSA-OAEP (SHA-256, MGF1-SHA-256)
 * of the UTF-8 value — the scheme Segment documents. One RSA operation per value (slow; see
 * docs/crypto.md) and the output does not carry the kid: the audit entry must record it.
 */
import type { KeyObject } from 'node:crypto';
import { constants, publicEncrypt } from 'node:crypto';
import { PhiGateError } from '../errors.ts';
import type { Encryptor } from './encryptor.ts';
import { assertRsaPublicKey } from './keys.ts';

/** RFC 8017 §7.1.1: mLen <= k - 2·hLen - 2, with hLen = 32 for SHA-256. */
const OAEP_SHA256_OVERHEAD = 2 * 32 + 2;

export function createRsaOaepEncryptor(opts: { kid: string; publicKey: KeyObject }): Encryptor {
  const { kid, publicKey } = opts;
  if (typeof kid !== 'string' || kid.length === 0) {
    throw new PhiGateError(
      'PHIGATE_ERR_POLICY_INVALID',
      'rsa-oaep-256 encryptor: kid must be a non-empty string',
    );
  }
  assertRsaPublicKey(publicKey, `public key for kid '${kid}'`);
  const modulusBytes = Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  const maxValueBytes = modulusBytes - OAEP_SHA256_OVERHEAD;
  const keyOptions = { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };

  function encrypt(plaintext: string): string {
    if (typeof plaintext !== 'string') {
      throw new PhiGateError(
        'PHIGATE_ERR_ACTION',
        `rsa-oaep-256 encryption failed for kid '${kid}': not a string`,
      );
    }
    const bytes = Buffer.from(plaintext, 'utf8');
    if (bytes.length > maxValueBytes) {
      // Length limits only, never the value: it is the very thing that must not leak.
      throw new PhiGateError(
        'PHIGATE_ERR_VALUE_TOO_LONG',
        `rsa-oaep-256 with kid '${kid}' takes at most ${maxValueBytes} UTF-8 bytes per value`,
      );
    }
    try {
      return publicEncrypt(keyOptions, bytes).toString('base64');
    } catch (err) {
      throw new PhiGateError('PHIGATE_ERR_ACTION', `rsa-oaep-256 encryption failed for kid '${kid}'`, {
        cause: err,
      });
    }
  }

  return Object.freeze({ kid, scheme: 'rsa-oaep-256' as const, encrypt });
}
