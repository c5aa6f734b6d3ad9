/**
 * The argument handling every command shares: strict parsing, `--help`, required options, and one
 * usage error format (`phi-gate <command>: <problem>` + usage, exit code EXIT.usage).
 */
import { parseArgs } from 'node:util';
import type { CliIo } from './io.ts';
import { EXIT } from './io.ts';

export interface ArgSpec {
  readonly usage: string;
  readonly options: Readonly<
    Record<
      string,
      { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean }
    >
  >;
  /** Options that must be present and non-empty. */
  readonly required?: readonly string[];
  readonly positionals?: boolean;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** The parsed arguments, or the exit code to return right away (help printed, or a usage error). */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  io: CliIo,
  spec: ArgSpec,
): ParsedArgs | number {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: spec.positionals ?? false,
    });
  } catch (err) {
    io.stderr.write(`phi-gate ${command}: ${(err as Error).message}\n${spec.usage}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.stdout.write(spec.usage);
    return EXIT.ok;
  }
  const missing = (spec.required ?? []).filter((name) => {
    const value = parsed.values[name];
    return value === undefined || value === '' || (Array.isArray(value) && value.includes(''));
  });
  if (missing.length > 0) {
    const list = missing.map((m) => `--${m}`).join(' and ');
    io.stderr.write(
      `phi-gate ${command}: ${list} ${missing.length === 1 ? 'is' : 'are'} required\n${spec.usage}`,
    );
    return EXIT.usage;
  }
  return parsed;
}

/** The options of commands that read a policy against writer schemas: a local file or the registry. */
export const SCHEMA_SOURCE_OPTIONS = {
  policy: { type: 'string' },
  schema: { type: 'string' },
  registry: { type: 'boolean' },
  subject: { type: 'string' },
} as const;

export interface SchemaSourceValues {
  readonly policy: string;
  readonly schema?: string;
  readonly registry?: boolean;
  readonly subject?: string;
}

/**
 * Parses a schema-source command's arguments and checks that `--schema` and `--registry` exclude
 * each other and `--subject` comes with `--registry`. Returns the values, or the exit code.
 */
export function parseSchemaSourceArgs<T extends SchemaSourceValues>(
  command: string,
  argv: readonly string[],
  io: CliIo,
  spec: { readonly usage: string; readonly options?: ArgSpec['options'] },
): T | number {
  const parsed = parseCommandArgs(command, argv, io, {
    usage: spec.usage,
    options: { ...SCHEMA_SOURCE_OPTIONS, ...spec.options },
    required: ['policy'],
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as unknown as T;
  if ((values.schema && values.registry) || (values.subject !== undefined && !values.registry)) {
    io.stderr.write(
      `phi-gate ${command}: --schema and --registry exclude each other; --subject needs --registry\n${spec.usage}`,
    );
    return EXIT.usage;
  }
  return values;
}
