/**
 * Per-value cost of the crypto actions, in-process (no Kafka). Run: `node bench/crypto.bench.ts`.
 * Target (crypto brief): JWE with CEK reuse <= 15 µs amortized per value. Each case runs a warm-up,
 * then the median of 5 timed rounds; amortized = total time / values (RSA operations included).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { openGcm } from '../src/crypto/gcm.ts';
import { createHmacHasher } from '../src/crypto/hmac.ts';
import { createJweEncryptor } from '../src/crypto/jwe.ts';
import { cryptoBackend, cryptoBackends } from '../src/crypto/native.ts';
import { createRsaOaepEncryptor } from '../src/crypto/rsa-oaep.ts';
import { createSha256Hasher } from '../src/crypto/sha256.ts';

const ROUNDS = 5;
const VALUES = ['jane.doe@example.com', 'M-12345678', 'Jane Q. Doe', '1987-03-14', '+1 650 555 0100'];

function measure(name: string, perRound: number, fn: (value: string) => string): void {
  let sink = 0;
  const round = (n: number): number => {
    const start = performance.now();
    for (let i = 0; i < n; i++) sink += fn(VALUES[i % VALUES.length]!).length;
    return performance.now() - start;
  };
  round(Math.min(perRound, 2_000)); // warm-up (JIT, first CEK)
  const times = Array.from({ length: ROUNDS }, () => round(perRound)).sort((a, b) => a - b);
  const medianUs = (times[Math.floor(ROUNDS / 2)]! * 1000) / perRound;
  console.log(`${name.padEnd(52)} ${medianUs.toFixed(2).padStart(9)} µs/value  (${perRound} values/round)`);
  if (sink === 0) console.log('unreachable');
}

console.log(
  `node ${process.version}, ${process.platform}/${process.arch}; JWE seals and HMACs with ${cryptoBackend.name}\n`,
);
// the AES-256-GCM step of a JWE value alone, each implementation (src/crypto/gcm.ts)
for (const backend of cryptoBackends()) {
  const sealer = openGcm(
    randomBytes(32),
    Buffer.from('eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0'),
    { backend },
  );
  const iv = Buffer.alloc(12);
  let counter = 0;
  measure(`aes-256-gcm seal (${backend})`, 200_000, (v) => {
    iv.writeUInt32BE(counter++, 8);
    return sealer.seal(iv, v);
  });
}
for (const bits of [3072, 2048]) {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwe = createJweEncryptor({ kid: `bench-${bits}`, publicKey }); // defaults: 10000 values / 60 s
  measure(`jwe RSA-${bits}, CEK reuse (10000 values/window)`, 100_000, (v) => jwe.encrypt(v));
  const jwe100 = createJweEncryptor({ kid: `bench-${bits}`, publicKey, maxValues: 100 });
  measure(`jwe RSA-${bits}, CEK reuse (100 values/window)`, 50_000, (v) => jwe100.encrypt(v));
  const jweFresh = createJweEncryptor({ kid: `bench-${bits}`, publicKey, maxValues: 1 });
  measure(`jwe RSA-${bits}, no reuse (1 value/window)`, 5_000, (v) => jweFresh.encrypt(v));
  const oaep = createRsaOaepEncryptor({ kid: `bench-${bits}`, publicKey });
  measure(`rsa-oaep-256 RSA-${bits}`, 5_000, (v) => oaep.encrypt(v));
}
// the hash action, each implementation (src/crypto/hmac.ts)
for (const backend of cryptoBackends())
  measure(
    `hash (HMAC-SHA256, 32-byte key; ${backend})`,
    200_000,
    createHmacHasher(Buffer.alloc(32, 7), backend),
  );
const sha = createSha256Hasher('email');
measure('sha256: email', 200_000, sha);
const phone = createSha256Hasher('phone');
measure('sha256: phone (+1 650 555 0100)', 200_000, () => phone('+1 650 555 0100'));
