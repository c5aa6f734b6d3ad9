/**
 * `phi-gate run`: the service. Configuration comes from environment variables, validated at start
 * with every problem listed at once. SIGTERM / SIGINT: stop fetching, finish and commit the in-flight
 * batch, leave the group, exit 0; a second signal, or the shutdown timeout, forces exit 1. A fatal
 * error while running (src/errors.ts: a fenced producer, an unrecoverable client error, a bug)
 * closes the app without committing the batch in hand and exits 1, so that Kubernetes restarts it.
 * An error that escaped every handler (PHIGATE_ERR_INTERNAL) closes the app and exits 1 too; the
 * engine did not fail, so a batch already committing finishes (its outputs are whole either way).
 */
import { createApp } from '../app.ts';
import { loadConfig } from '../config/index.ts';
import { formatProblems, isPhiGateError, PhiGateError } from '../errors.ts';
import type { Command } from './io.ts';
import { EXIT } from './io.ts';

export const run: Command = async (argv, io) => {
  if (argv.length > 0) {
    io.stderr.write(
      `phi-gate run takes no arguments (configuration is by environment variables); got: ${argv.join(' ')}\n`,
    );
    return EXIT.usage;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (isPhiGateError(err)) {
      io.stderr.write(`phi-gate: ${formatProblems(err)}\n`);
      return EXIT.invalid;
    }
    throw err;
  }

  const app = createApp(config, { env: io.env });
  const { logger } = app;
  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(EXIT.failure);
      }
      logger.info({ signal }, 'shutting down: finishing the in-flight batch');
      const timer = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out: exiting');
        process.exit(EXIT.failure);
      }, config.shutdownTimeoutMs);
      timer.unref();
      app.close().then(() => resolve(EXIT.ok));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    app.failed.then(async () => {
      const timer = setTimeout(() => process.exit(EXIT.failure), config.shutdownTimeoutMs);
      timer.unref();
      await app.close();
      resolve(EXIT.failure);
    });
    // the last resort: an error that escaped every handler (a bug) ends the instance as a fatal
    // error does — a coded log line, the app closed, exit 1 — not with Node's bare stack trace,
    // which skipped the close and left the log without a code
    const escaped = (err: unknown) =>
      app.fail(
        new PhiGateError(
          'PHIGATE_ERR_INTERNAL',
          `an error escaped every handler (${err instanceof Error ? err.name : typeof err})`,
          { cause: err },
        ),
      );
    process.on('unhandledRejection', escaped);
    process.on('uncaughtException', escaped);
  });

  try {
    await app.start();
  } catch (err) {
    const detail = isPhiGateError(err) ? formatProblems(err) : (err as Error).message;
    logger.fatal(
      { err, code: isPhiGateError(err) ? err.code : undefined },
      `phi-gate failed to start: ${detail}`,
    );
    await app.close();
    return EXIT.failure;
  }
  return stopped;
};
