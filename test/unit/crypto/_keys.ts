/**
 * Test key pairs, generated once per test process (2048-bit: fast, and the minimum phi-gate accepts).
 * Not a test file itself (no .test.ts suffix).
 */
import type { KeyObject } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';

export interface TestPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly publicPem: string;
  readonly privatePem: string;
}

const cache = new Map<string, TestPair>();

/** An RSA pair of `bits` (default 2048), memoized by name so tests share the cost. */
export function rsaPair(name = 'default', bits = 2048): TestPair {
  const cacheKey = `${name}/${bits}`;
  let pair = cache.get(cacheKey);
  if (pair === undefined) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    pair = {
      publicKey,
      privateKey,
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    cache.set(cacheKey, pair);
  }
  return pair;
}

/** A deterministic randomBytes: successive calls return consecutive byte values starting at `start`. */
export function countingRandom(start = 0): (n: number) => Buffer {
  let next = start;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = next++ & 0xff;
    return out;
  };
}
