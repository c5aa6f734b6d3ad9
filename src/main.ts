#!/usr/bin/env node
/** Composition root of the `phi-gate` executable: hands argv to the command table and exits with its code. */
import { runCli } from './cli/index.ts';

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
};
const code = await runCli(process.argv.slice(2), io);
// `run` resolves only after a graceful shutdown; other commands are done when they resolve.
process.exitCode = code;
