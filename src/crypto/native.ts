/**
 * native/aead: the native code of phi-gate's two per-value crypto paths, over the OpenSSL inside the
 * running Node binary — AES-256-GCM sealing with one context per content key (gcm.ts) and
 * HMAC-SHA256 with the key's padded blocks absorbed once (hmac.ts). Both exist in node:crypto too;
 * there each value pays for objects and calls that cost more than the cryptography itself.
 *
 * The set-up (deploy/local/deps.sh) and the image build it. Where it is missing or does not load,
 * gcm.ts and hmac.ts use node:crypto, `cryptoBackend.reason` says why and the app warns at start.
 */
import { createRequire } from 'node:module';

export type CryptoBackendName = 'native' | 'node:crypto';

export interface NativeCrypto {
  open(key: Buffer, aad: Buffer, prefix: Buffer): object;
  seal(handle: object, iv: Buffer, plaintext: string): string;
  close(handle: object): void;
  hmacOpen(key: Buffer): object;
  hmac(handle: object, value: string): string;
  hmacClose(handle: object): void;
}

const FUNCTIONS = ['open', 'seal', 'close', 'hmacOpen', 'hmac', 'hmacClose'] as const;

function load(): { module: NativeCrypto } | { reason: string } {
  let module: unknown;
  try {
    module = createRequire(import.meta.url)('@phi-gate/aead');
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0] ?? 'not loadable' };
  }
  return checkNative(module);
}

/**
 * The loaded module if it has every function, else why not: a build older than this code (the set-up
 * rebuilds it) serves all or nothing, never half. Exported for tests.
 */
export function checkNative(module: unknown): { module: NativeCrypto } | { reason: string } {
  const functions = (module ?? {}) as Record<string, unknown>;
  const missing = FUNCTIONS.filter((f) => typeof functions[f] !== 'function');
  if (missing.length > 0)
    return { reason: `native/aead is out of date, without ${missing.join(', ')}: rebuild it` };
  return { module: module as NativeCrypto };
}

const loaded = load();

/** The native module, or undefined when it did not load. */
export const nativeCrypto: NativeCrypto | undefined = 'module' in loaded ? loaded.module : undefined;

/** The implementation gcm.ts and hmac.ts use by default; `reason` says why it is not the native one. */
export const cryptoBackend: { readonly name: CryptoBackendName; readonly reason?: string } =
  'module' in loaded ? { name: 'native' } : { name: 'node:crypto', reason: loaded.reason };

/** The implementations that can run here (tests and benchmarks compare them). */
export function cryptoBackends(): CryptoBackendName[] {
  return nativeCrypto === undefined ? ['node:crypto'] : ['native', 'node:crypto'];
}

/** The native module for a caller that asked for it by name. */
export function requireNative(what: string): NativeCrypto {
  if (nativeCrypto === undefined)
    throw new Error(`the native ${what} is not available: ${cryptoBackend.reason}`);
  return nativeCrypto;
}
