/**
 * What an engine does when a batch step or its transaction fails, decided by the error catalogue
 * and the same for every engine:
 *
 * - `pause`    back off exponentially (the member stays in the group) and retry the same records;
 * - `abandon`  give the batch up uncommitted: the partition has a new owner, which reads it again;
 * - anything else, and any error that is not a PhiGateError (a TypeError is a bug, not an outage),
 *   is `fatal`: stop without committing, so that a restart processes the batch again.
 */
import type { Logger } from 'pino';
import { isPhiGateError, PhiGateError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';

export type Decision =
  | { readonly action: 'retry'; readonly error: PhiGateError }
  | { readonly action: 'abandon'; readonly error: PhiGateError }
  | { readonly action: 'fatal'; readonly error: PhiGateError };

/**
 * `classify` turns a client's own errors into catalogue errors; whatever it does not recognise
 * stays as it is and becomes PHIGATE_ERR_INTERNAL here.
 */
export function decide(raw: unknown, classify: (err: unknown) => unknown = (e) => e): Decision {
  const classified = classify(raw);
  const error = isPhiGateError(classified)
    ? classified
    : new PhiGateError('PHIGATE_ERR_INTERNAL', `unexpected error: ${describe(classified)}`, {
        cause: classified,
      });
  switch (error.disposition) {
    case 'pause':
      return { action: 'retry', error };
    case 'abandon':
      return { action: 'abandon', error };
    default:
      return { action: 'fatal', error };
  }
}

/** The name and message of an unknown error (library messages name operations, not records). */
function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return typeof err;
}

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Exponential back-off delays, doubling up to `maxMs`. */
export class Delays {
  readonly #backoff: Backoff;
  #next: number;
  attempt = 0;

  constructor(backoff: Backoff) {
    this.#backoff = backoff;
    this.#next = backoff.initialMs;
  }

  next(): number {
    const delay = this.#next;
    this.attempt += 1;
    this.#next = Math.min(this.#next * 2, this.#backoff.maxMs);
    return delay;
  }
}

/** Logs and counts a pause (one line per attempt; never a record). */
export function reportPause(
  logger: Logger,
  metrics: Metrics,
  error: PhiGateError,
  attempt: number,
  delay: number,
): void {
  const reason = error.code === 'PHIGATE_ERR_REGISTRY_UNAVAILABLE' ? 'registry' : 'broker';
  metrics.pauses.inc({ reason });
  logger.warn(
    { code: error.code, attempt, retryInMs: delay, reason: error.message },
    'batch paused; will retry',
  );
}

/** Counts a transaction's outcome and its duration since `started` (process.hrtime.bigint()). */
export function observeTransaction(
  metrics: Metrics,
  outcome: 'committed' | 'aborted',
  started: bigint,
): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  metrics.transactions.inc({ outcome });
  metrics.transactionDuration.observe({ outcome: outcome === 'committed' ? 'commit' : 'abort' }, seconds);
}

/**
 * Logs and counts a transaction that was reported as failed — and counted aborted — but that the
 * group's committed offsets show committed: its answer was lost or garbled. Its records are not sent
 * again.
 */
export function reportFoundCommitted(logger: Logger, metrics: Metrics): void {
  metrics.transactionsFoundCommitted.inc();
  logger.warn('a transaction reported as failed had committed; its records are not sent again');
}
