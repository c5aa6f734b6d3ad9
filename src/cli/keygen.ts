/**
 * `phi-gate keygen --out DIR [--kid ID]`: writes a destination key pair. stdout carries the kid
 * alone (so `KID=$(phi-gate keygen --out keys)` works); the file paths go to stderr.
 */
import { resolve } from 'node:path';
import { generateKeyPair } from '../crypto/keygen.ts';
import { isPhiGateError } from '../errors.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './io.ts';
import { EXIT } from './io.ts';

const USAGE = 'usage: phi-gate keygen --out DIR [--kid ID]\n';

export const keygen: Command = async (argv, io) => {
  const parsed = parseCommandArgs('keygen', argv, io, {
    usage: USAGE,
    options: { out: { type: 'string' }, kid: { type: 'string' } },
    required: ['out'],
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { out: string; kid?: string };
  try {
    const pair = await generateKeyPair(resolve(io.cwd, values.out), values.kid);
    io.stdout.write(`${pair.kid}\n`);
    io.stderr.write(`private key (mode 0600, keep it with the destination owner): ${pair.privateKeyPath}\n`);
    io.stderr.write(`public key (goes into the phi-gate policy): ${pair.publicKeyPath}\n`);
    return EXIT.ok;
  } catch (err) {
    if (!isPhiGateError(err)) throw err;
    io.stderr.write(`phi-gate keygen: ${err.code}: ${err.message}\n`);
    return err.code === 'PHIGATE_ERR_USAGE' ? EXIT.usage : EXIT.failure;
  }
};
