/** Runs a CLI command in-process with captured stdout/stderr and a given stdin, env and cwd. */
import { Readable, Writable } from 'node:stream';
import type { CliIo, Command } from '../../src/cli/io.ts';

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
}

export async function runCommand(
  command: Command,
  argv: readonly string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    env: options.env ?? {},
    cwd: options.cwd,
  };
  const code = await command(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}
