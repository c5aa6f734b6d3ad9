/** What a CLI command may touch: injected so that tests run commands in-process. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** A command takes its own arguments (after the command name) and resolves to the exit code. */
export type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, invalid: 3 } as const;
