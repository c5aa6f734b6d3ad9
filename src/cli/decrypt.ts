/**
 * `phi-gate decrypt --key private.pem [--key ...] [VALUE...]`: prints the plaintext of each value,
 * one per line. Several keys serve a rotation's overlap: each file is then `<kid>.key.pem` (as
 * keygen names it), a JWE value picks its key by the kid in its header, and a raw rsa-oaep-256
 * value (which names no kid) is tried with each key of its modulus size.
 *
 * Without VALUEs it reads stdin, one value per line (blank lines are skipped). A value that fails is
 * reported on stderr with its line (or argument) number — never its content — and the rest are still
 * processed; the exit code is then EXIT.failure. Failed and skipped values print nothing on stdout.
 */
import type { KeyObject } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { decryptValue } from '../crypto/decrypt.ts';
import { loadPrivateKey } from '../crypto/keys.ts';
import { isPhiGateError } from '../errors.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE =
  'usage: phi-gate decrypt --key PRIVATE.pem [--key KID.key.pem ...] [VALUE...]   (no VALUE: one value per stdin line)\n';
const KID_FILE = /^(.+)\.key\.pem$/;

/** Writes respecting back-pressure, so a large stdin does not pile up in memory. */
async function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  if (!stream.write(`${line}\n`)) await new Promise<void>((done) => stream.once('drain', done));
}

async function* stdinValues(stdin: NodeJS.ReadableStream): AsyncGenerator<[where: string, value: string]> {
  let n = 0;
  for await (const line of createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    n++;
    if (line.trim() !== '') yield [`line ${n}`, line];
  }
}

async function* argValues(values: readonly string[]): AsyncGenerator<[where: string, value: string]> {
  for (const [i, value] of values.entries()) yield [`argument ${i + 1}`, value];
}

export const decrypt: Command = async (argv, io) => {
  const parsed = parseCommandArgs('decrypt', argv, io, {
    usage: USAGE,
    options: { key: { type: 'string', multiple: true } },
    required: ['key'],
    positionals: true,
  });
  if (typeof parsed === 'number') return parsed;
  const { positionals } = parsed;
  const paths = (parsed.values as { key: string[] }).key;

  // Every key problem at once, before any value is read. One key is used for every value; several
  // are told apart by kid, taken from the file name.
  const problems: string[] = [];
  const keys = new Map<string, KeyObject>();
  for (const path of paths) {
    const kid = paths.length === 1 ? path : KID_FILE.exec(basename(path))?.[1];
    if (kid === undefined) {
      problems.push(
        `'${path}': with several --key, each file must be named <kid>.key.pem (as keygen writes it)`,
      );
    } else if (keys.has(kid)) {
      problems.push(`'${path}': kid '${kid}' is given twice`);
    } else {
      try {
        keys.set(kid, loadPrivateKey(resolve(io.cwd, path)));
      } catch (err) {
        if (!isPhiGateError(err)) throw err;
        problems.push(`${err.code}: ${err.message}`);
      }
    }
  }
  if (problems.length > 0) {
    for (const p of problems) io.stderr.write(`phi-gate decrypt: ${p}\n`);
    return EXIT.failure;
  }
  const [only] = keys.values();
  const privateKey = paths.length === 1 && only !== undefined ? only : keys;

  let failed = 0;
  const source = positionals.length > 0 ? argValues(positionals) : stdinValues(io.stdin);
  for await (const [where, value] of source) {
    let plaintext: string;
    try {
      plaintext = decryptValue(value, privateKey);
    } catch (err) {
      if (!isPhiGateError(err)) throw err;
      failed++;
      io.stderr.write(`phi-gate decrypt: ${where}: ${err.code}: ${err.message}\n`);
      continue;
    }
    await writeLine(io.stdout, plaintext);
  }
  return failed === 0 ? EXIT.ok : EXIT.failure;
};
