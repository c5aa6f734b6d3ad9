/**
 * `phi-gate decrypt --key private.pem [VALUE...]`: prints the plaintext of each value, one per line.
 * Without VALUEs it reads stdin, one value per line (blank lines are skipped). A value that fails is
 * reported on stderr with its line (or argument) number — never its content — and the rest are still
 * processed; the exit code is then EXIT.failure. Failed and skipped values print nothing on stdout.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { decryptValue } from '../crypto/decrypt.ts';
import { loadPrivateKey } from '../crypto/keys.ts';
import { isPhiGateError } from '../errors.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE = 'usage: phi-gate decrypt --key PRIVATE.pem [VALUE...]   (no VALUE: one value per stdin line)\n';

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
    options: { key: { type: 'string' } },
    required: ['key'],
    positionals: true,
  });
  if (typeof parsed === 'number') return parsed;
  const { positionals } = parsed;
  const values = parsed.values as { key: string };

  let privateKey: ReturnType<typeof loadPrivateKey>;
  try {
    privateKey = loadPrivateKey(resolve(io.cwd, values.key));
  } catch (err) {
    if (!isPhiGateError(err)) throw err;
    io.stderr.write(`phi-gate decrypt: ${err.code}: ${err.message}\n`);
    return EXIT.failure;
  }

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
