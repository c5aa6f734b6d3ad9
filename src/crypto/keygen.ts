/**
 * Destination key pairs for `encrypt`. The destination's owner runs this (or openssl) and hands
 * phi-gate only the public key; the private key never enters phi-gate's configuration.
 */
import { generateKeyPair as generateKeyPairCb, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PhiGateError } from '../errors.ts';

const generateRsa = promisify(generateKeyPairCb);

/**
 * 3072 bits: 128-bit security (NIST SP 800-57 Part 1, Table 2), acceptable beyond 2030, whereas
 * 2048 (112-bit) is disallowed for new protection after 2030 — and ciphertexts sitting in a vendor's
 * warehouse must stay confidential for years. The cost lands where it is cheap: phi-gate does one
 * public-key operation per JWE window; only the owner's decryption pays for the larger private key.
 */
export const KEYGEN_RSA_BITS = 3072;

/** A kid doubles as a file name: no separators, no leading dot, bounded length. */
export const KID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `key-<YYYYMMDD>-<6 random hex>` (UTC date): sortable by creation, unique enough to never collide in practice. */
export function defaultKid(date: Date = new Date()): string {
  const ymd = date.toISOString().slice(0, 10).replaceAll('-', '');
  return `key-${ymd}-${randomBytes(3).toString('hex')}`;
}

/** Creates a file that must not exist yet, with its final mode from the first byte on (O_CREAT|O_EXCL). */
async function createExclusive(path: string, mode: number): Promise<FileHandle> {
  try {
    const handle = await open(path, 'wx', mode);
    // umask can only have removed bits; set the exact mode (this never widens beyond `mode`).
    await handle.chmod(mode);
    return handle;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PhiGateError('PHIGATE_ERR_INPUT', `refusing to overwrite existing file '${path}'`, {
        cause: err,
      });
    }
    throw new PhiGateError('PHIGATE_ERR_INPUT', `cannot create '${path}'`, { cause: err });
  }
}

/**
 * Writes `<kid>.key.pem` (PKCS#8, mode 0600) and `<kid>.pub.pem` (SPKI, mode 0644) into `outDir`
 * (created with mode 0700 if missing). Refuses to overwrite either file; on any failure no new file
 * is left behind.
 */
export async function generateKeyPair(
  outDir: string,
  kid?: string,
): Promise<{ kid: string; publicKeyPath: string; privateKeyPath: string }> {
  const id = kid ?? defaultKid();
  if (!KID_PATTERN.test(id)) {
    throw new PhiGateError('PHIGATE_ERR_USAGE', `kid must match ${KID_PATTERN} (it becomes a file name)`);
  }
  const dir = resolve(outDir);
  const privateKeyPath = join(dir, `${id}.key.pem`);
  const publicKeyPath = join(dir, `${id}.pub.pem`);

  // Fail fast before the (slow) key generation; the exclusive create below still closes the race.
  for (const path of [privateKeyPath, publicKeyPath]) {
    const exists = await lstat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new PhiGateError('PHIGATE_ERR_INPUT', `refusing to overwrite existing file '${path}'`);
  }

  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: KEYGEN_RSA_BITS,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PhiGateError('PHIGATE_ERR_INPUT', `cannot create directory '${dir}'`, { cause: err });
  }
  const created: string[] = [];
  const handles: FileHandle[] = [];
  try {
    handles.push(await createExclusive(privateKeyPath, 0o600));
    created.push(privateKeyPath);
    handles.push(await createExclusive(publicKeyPath, 0o644));
    created.push(publicKeyPath);
    await handles[0]?.writeFile(privateKey, 'utf8');
    await handles[1]?.writeFile(publicKey, 'utf8');
    await Promise.all(handles.map((h) => h.sync()));
  } catch (err) {
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
    handles.length = 0;
    await Promise.all(created.map((p) => unlink(p).catch(() => undefined)));
    throw err instanceof PhiGateError
      ? err
      : new PhiGateError('PHIGATE_ERR_INPUT', `cannot write key pair into '${dir}'`, { cause: err });
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
  return { kid: id, publicKeyPath, privateKeyPath };
}
