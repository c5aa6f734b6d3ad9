/**
 * Key material loading. Everything here runs once, when a policy is loaded (or a CLI starts) —
 * never per record. Errors are PHIGATE_ERR_KEY_MATERIAL and name the source (resolved file path or
 * environment variable name) and the rule that failed; they never contain key bytes.
 */
import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PhiGateError } from '../errors.ts';

export type KeySource = { readonly file: string } | { readonly env: string };

export interface KeyContext {
  /** Relative key file paths resolve against this (the policy file's directory). */
  readonly baseDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Minimum RSA modulus accepted for encryption keys (NIST SP 800-57: 112-bit security). */
export const MIN_RSA_BITS = 2048;
/** Default minimum HMAC key length: 32 bytes = the SHA-256 output size (RFC 2104 §3). */
export const DEFAULT_MIN_SECRET_BYTES = 32;
/** Key files are small; anything bigger is a wrong path (a log, a device), not a key. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

function keyError(source: string, rule: string, cause?: unknown): PhiGateError {
  return new PhiGateError(
    'PHIGATE_ERR_KEY_MATERIAL',
    `${source}: ${rule}`,
    cause === undefined ? undefined : { cause },
  );
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'file not readable (permission denied)';
  if (code === 'EISDIR') return 'is a directory, not a key file';
  return `file cannot be read (${code ?? 'unknown error'})`;
}

/** Reads a whole key file, refusing anything that is not a regular file of plausible size. */
function readKeyFile(path: string, source: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw keyError(source, describeFsError(err), err);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw keyError(source, 'is not a regular file');
    if (stat.size > MAX_KEY_FILE_BYTES) throw keyError(source, `is larger than ${MAX_KEY_FILE_BYTES} bytes`);
    return readFileSync(fd);
  } catch (err) {
    if (err instanceof PhiGateError) throw err;
    throw keyError(source, describeFsError(err), err);
  } finally {
    closeSync(fd);
  }
}

/** Resolves a source to its raw bytes and a printable name (path or variable name, never content). */
function readSource(src: KeySource, ctx: KeyContext): { bytes: Buffer; source: string; fromFile: boolean } {
  if ('file' in src) {
    const path = resolve(ctx.baseDir, src.file);
    const source = `key file '${path}'`;
    return { bytes: readKeyFile(path, source), source, fromFile: true };
  }
  const source = `environment variable '${src.env}'`;
  const value = ctx.env[src.env];
  if (value === undefined || value === '') throw keyError(source, 'is unset or empty');
  return { bytes: Buffer.from(value, 'utf8'), source, fromFile: false };
}

/** Removes exactly one trailing "\n" or "\r\n" (editors and `echo` add one; a key never ends with one by intent). */
function stripOneNewline(bytes: Buffer): Buffer {
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0x0d && bytes[n - 1] === 0x0a) return bytes.subarray(0, n - 2);
  if (n >= 1 && bytes[n - 1] === 0x0a) return bytes.subarray(0, n - 1);
  return bytes;
}

/**
 * A symmetric secret (the HMAC hashKey). File: the bytes as they are minus ONE trailing newline;
 * env: the value as UTF-8. Fails when missing, empty, or shorter than `minBytes` (default 32).
 */
export function loadSecret(src: KeySource, ctx: KeyContext, opts?: { minBytes?: number }): Buffer {
  const minBytes = opts?.minBytes ?? DEFAULT_MIN_SECRET_BYTES;
  const { bytes, source, fromFile } = readSource(src, ctx);
  const key = fromFile ? stripOneNewline(bytes) : bytes;
  if (key.length === 0) throw keyError(source, 'is empty');
  if (key.length < minBytes) {
    // A random binary key ends in 0x0a one time in 256 and loses that byte like a text newline.
    const why = key.length < bytes.length ? ' once its trailing newline is ignored' : '';
    throw keyError(
      source,
      `is ${key.length} bytes${why}; at least ${minBytes} are required (generate text keys: openssl rand -hex 32)`,
    );
  }
  return Buffer.from(key); // own copy, detached from the file buffer
}

/**
 * Checks that a KeyObject can serve as an encryption key: an RSA public key of at least 2048 bits.
 * Shared by the loader and the encryptors, so a key built elsewhere is held to the same rules.
 */
export function assertRsaPublicKey(key: KeyObject, source: string): void {
  if (key.type !== 'public') throw keyError(source, `is a ${key.type} key; a public key is required`);
  if (key.asymmetricKeyType !== 'rsa') {
    throw keyError(source, `key type is ${key.asymmetricKeyType ?? 'unknown'}; only RSA keys are accepted`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS)
    throw keyError(source, `RSA modulus is ${bits} bits; at least ${MIN_RSA_BITS} are required`);
}

/** Counts PEM blocks and returns the label of the only one, or an error naming what is wrong. */
function singlePemLabel(text: string, source: string): string {
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1] ?? '');
  if (labels.length === 0) throw keyError(source, 'is not PEM (no -----BEGIN line)');
  if (labels.length > 1)
    throw keyError(source, `holds ${labels.length} PEM blocks; exactly one key is expected`);
  return labels[0] ?? '';
}

/** An RSA public key from PEM SPKI ("BEGIN PUBLIC KEY"), modulus >= 2048 bits. */
export function loadPublicKey(src: KeySource, ctx: KeyContext): KeyObject {
  const { bytes, source } = readSource(src, ctx);
  const text = bytes.toString('utf8');
  const label = singlePemLabel(text, source);
  if (label.includes('PRIVATE'))
    throw keyError(source, 'holds a private key; configure the public key (BEGIN PUBLIC KEY)');
  if (label !== 'PUBLIC KEY')
    throw keyError(source, `is PEM '${label}'; SPKI PEM (BEGIN PUBLIC KEY) is required`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem', type: 'spki' });
  } catch (err) {
    throw keyError(source, 'is not a parsable SPKI public key', err);
  }
  assertRsaPublicKey(key, source);
  return key;
}

/**
 * An RSA private key from PKCS#8 PEM ("BEGIN PRIVATE KEY"), given inline or as a file path.
 * For the decrypt CLI: phi-gate itself never holds a private key.
 */
export function loadPrivateKey(pemOrPath: string): KeyObject {
  const inline = pemOrPath.includes('-----BEGIN');
  const source = inline ? 'inline private key PEM' : `key file '${resolve(pemOrPath)}'`;
  const text = inline ? pemOrPath : readKeyFile(resolve(pemOrPath), source).toString('utf8');
  const label = singlePemLabel(text, source);
  if (label === 'ENCRYPTED PRIVATE KEY')
    throw keyError(source, 'is an encrypted private key; decrypt it first');
  if (label !== 'PRIVATE KEY')
    throw keyError(source, `is PEM '${label}'; PKCS#8 PEM (BEGIN PRIVATE KEY) is required`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem', type: 'pkcs8' });
  } catch (err) {
    throw keyError(source, 'is not a parsable PKCS#8 private key', err);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw keyError(source, `key type is ${key.asymmetricKeyType ?? 'unknown'}; only RSA keys are accepted`);
  }
  return key;
}
