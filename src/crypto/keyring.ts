/**
 * Key rotation: a destination lists several public keys and names one `active`. Only the active key
 * encrypts; the others stay listed for the overlap window while the destination's owner still holds
 * (and decrypts with) their private keys. Every key is checked here, at policy load.
 */
import type { KeyObject } from 'node:crypto';
import { PhiGateError } from '../errors.ts';
import type { Encryptor } from './encryptor.ts';
import { createJweEncryptor } from './jwe.ts';
import { assertRsaPublicKey } from './keys.ts';
import { createRsaOaepEncryptor } from './rsa-oaep.ts';

export interface KeyringConfig {
  scheme: 'jwe' | 'rsa-oaep-256';
  active: string;
  keys: ReadonlyArray<{ kid: string; publicKey: KeyObject }>;
  /** JWE only: CEK window bounds (see JweOptions). */
  maxValues?: number;
  maxAgeMs?: number;
}

export interface Keyring {
  readonly active: Encryptor;
  readonly kids: readonly string[];
}

function keyringError(message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_KEY_MATERIAL', `keyring: ${message}`);
}

export function createKeyring(cfg: KeyringConfig): Keyring {
  if (cfg.keys.length === 0) throw keyringError('no keys listed');
  const seen = new Set<string>();
  for (const { kid, publicKey } of cfg.keys) {
    if (typeof kid !== 'string' || kid.length === 0) throw keyringError('a key has an empty kid');
    if (seen.has(kid)) throw keyringError(`kid '${kid}' is listed twice`);
    seen.add(kid);
    assertRsaPublicKey(publicKey, `public key for kid '${kid}'`);
  }
  const activeKey = cfg.keys.find((k) => k.kid === cfg.active);
  if (activeKey === undefined) throw keyringError(`active kid '${cfg.active}' is not among the listed keys`);

  let active: Encryptor;
  if (cfg.scheme === 'jwe') {
    active = createJweEncryptor({
      kid: activeKey.kid,
      publicKey: activeKey.publicKey,
      maxValues: cfg.maxValues,
      maxAgeMs: cfg.maxAgeMs,
    });
  } else if (cfg.scheme === 'rsa-oaep-256') {
    active = createRsaOaepEncryptor({ kid: activeKey.kid, publicKey: activeKey.publicKey });
  } else {
    throw new PhiGateError('PHIGATE_ERR_POLICY_INVALID', 'keyring: unknown encryption scheme');
  }
  return Object.freeze({ active, kids: Object.freeze([...seen]) });
}
