/**
 * `phi-gate <command> [args]`: the command table. Each command lives in its own file and is loaded
 * only when named, so `phi-gate keygen` does not load Kafka.
 */
import type { CliIo, Command } from './io.ts';
import { EXIT } from './io.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: 'run the service (configured by environment variables)',
    load: async () => (await import('./run.ts')).run,
  },
  check: {
    summary:
      'check --policy FILE [--schema S.avsc | --registry [--subject S]]: validate a policy and print its warnings',
    load: async () => (await import('./check.ts')).check,
  },
  preview: {
    summary:
      'preview --policy FILE --event E.json [--schema S.avsc] [--explain]: what each destination receives',
    load: async () => (await import('./preview.ts')).preview,
  },
  inventory: {
    summary:
      "inventory --policy FILE [--schema S.avsc | --registry [--subject S]] [--format table|json|markdown]: every field, its classification and each destination's action",
    load: async () => (await import('./inventory.ts')).inventory,
  },
  diff: {
    summary:
      'diff --policy NEW [--against OLD] [--sample N] [--from earliest|latest] [--json]: what a policy change does to real events (exit 4: a new leak)',
    load: async () => (await import('./diff.ts')).diff,
  },
  keygen: {
    summary: 'keygen --out DIR [--kid ID]: write a destination key pair',
    load: async () => (await import('./keygen.ts')).keygen,
  },
  decrypt: {
    summary: 'decrypt --key private.pem [--key ...] [VALUE...]: decrypt values (or stdin lines)',
    load: async () => (await import('./decrypt.ts')).decrypt,
  },
};

export function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return `usage: phi-gate <command> [options]\n\ncommands:\n${rows.join('\n')}\n`;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`phi-gate: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  const command = await entry.load();
  return command(rest, io);
}
