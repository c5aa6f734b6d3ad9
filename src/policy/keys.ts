/**
 * Loads every key a policy references — once, at load — and reports each failure as a problem at
 * the key's path. Key ids: the HMAC key is known by a keyed fingerprint (HMAC of a fixed label
 * under the key: it names the key without revealing or weakening it); public keys by their kid,
 * and their SPKI digest goes into the version so that swapping a key under the same kid is a new
 * policy version.
 */
import { createHash } from 'node:crypto';
import {
  createHmacHasher,
  createKeyring,
  type KeyContext,
  type Keyring,
  type KeySource,
  loadPublicKey,
  loadSecret,
} from '../crypto/index.ts';
import type { Problem } from '../errors.ts';
import { isPhiGateError } from '../errors.ts';
import type { DestinationConfig, PolicyConfig } from './config.ts';
import { displayPath, type Segment } from './problem-path.ts';

const KEY_ID_LABEL = 'phi-gate/key-id/v1';
const HMAC_MIN_BYTES = 32;

export interface DestinationKeys {
  readonly hmac: ((value: string) => string) | null;
  readonly hmacKeyId: string | null;
  readonly keyring: Keyring | null;
  /** kid → sha256 of the SPKI DER (hex), for versions only. */
  readonly publicKeyDigests: Readonly<Record<string, string>>;
}

export interface PolicyKeys {
  readonly destinations: ReadonlyMap<string, DestinationKeys>;
  readonly audit: ((value: string) => string) | null;
  readonly auditKeyId: string | null;
}

function describe(err: unknown): string {
  if (isPhiGateError(err)) return err.message;
  return 'key could not be loaded';
}

function hmacKey(
  src: KeySource,
  ctx: KeyContext,
  at: string,
  problems: Problem[],
): { hmac: (v: string) => string; id: string } | null {
  try {
    const hmac = createHmacHasher(loadSecret(src, ctx, { minBytes: HMAC_MIN_BYTES }));
    return { hmac, id: `hmac:${hmac(KEY_ID_LABEL).slice(0, 16)}` };
  } catch (err) {
    problems.push({ path: at, message: describe(err) });
    return null;
  }
}

function destinationKeys(d: DestinationConfig, ctx: KeyContext, problems: Problem[]): DestinationKeys {
  const at = (...rest: Segment[]): string => displayPath(['destinations', d.name, ...rest]);
  const h = d.hashKey === null ? null : hmacKey(d.hashKey, ctx, at('hashKey'), problems);
  let keyring: Keyring | null = null;
  const digests: Record<string, string> = {};
  const enc = d.encryption;
  if (enc !== null) {
    const loaded: { kid: string; publicKey: ReturnType<typeof loadPublicKey> }[] = [];
    let failed = false;
    enc.keys.forEach(({ kid, publicKey }, i) => {
      try {
        const key = loadPublicKey(publicKey, ctx);
        loaded.push({ kid, publicKey: key });
        digests[kid] = createHash('sha256')
          .update(key.export({ type: 'spki', format: 'der' }))
          .digest('hex');
      } catch (err) {
        failed = true;
        problems.push({ path: at('encryption', 'keys', i, 'publicKey'), message: describe(err) });
      }
    });
    if (!failed && loaded.some((k) => k.kid === enc.active)) {
      try {
        keyring = createKeyring({
          scheme: enc.scheme,
          active: enc.active,
          keys: loaded,
          ...(enc.reuse?.maxValues !== undefined ? { maxValues: enc.reuse.maxValues } : {}),
          ...(enc.reuse?.maxSeconds !== undefined ? { maxAgeMs: enc.reuse.maxSeconds * 1000 } : {}),
        });
      } catch (err) {
        problems.push({ path: at('encryption'), message: describe(err) });
      }
    }
  }
  return Object.freeze({
    hmac: h?.hmac ?? null,
    hmacKeyId: h?.id ?? null,
    keyring,
    publicKeyDigests: Object.freeze(digests),
  });
}

export function loadPolicyKeys(config: PolicyConfig, ctx: KeyContext, problems: Problem[]): PolicyKeys {
  const destinations = new Map<string, DestinationKeys>();
  for (const d of config.destinations) destinations.set(d.name, destinationKeys(d, ctx, problems));
  const audit =
    config.auditHashKey === null ? null : hmacKey(config.auditHashKey, ctx, 'audit.hashKey', problems);
  return { destinations, audit: audit?.hmac ?? null, auditKeyId: audit?.id ?? null };
}
