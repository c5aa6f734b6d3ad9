/**
 * The error catalogue. Every error phi-gate raises has a stable code, says whether retrying the
 * same operation can succeed, and what happens to the record that met it:
 *
 * - `dlq`          the input record cannot be processed by anyone; its raw bytes go to the DLQ.
 * - `fail_closed`  this destination receives nothing for the record; other destinations go on.
 * - `pause`        a dependency (broker, registry) is unavailable: pause, back off, retry the batch.
 * - `abandon`      the batch is given up uncommitted: its partition has a new owner, which reads it again.
 * - `fatal`        the instance cannot go on (bad configuration at start, a fenced producer, a bug):
 *                  it stops without committing the batch in hand and exits non-zero, so that
 *                  Kubernetes restarts it and the batch is processed again from the committed offset.
 * - `reject`       a request (CLI input, hot reload) is refused; the running state is unchanged.
 *
 * Messages never embed a payload value: they name paths, ids and codes only.
 */

export type Disposition = 'dlq' | 'fail_closed' | 'pause' | 'abandon' | 'fatal' | 'reject';

interface CatalogueEntry {
  readonly retryable: boolean;
  readonly disposition: Disposition;
  readonly summary: string;
}

export const ERRORS = {
  // configuration and policy
  PHIGATE_ERR_CONFIG: { retryable: false, disposition: 'fatal', summary: 'runtime configuration is invalid' },
  PHIGATE_ERR_POLICY_INVALID: { retryable: false, disposition: 'reject', summary: 'policy file is invalid' },
  PHIGATE_ERR_KEY_MATERIAL: {
    retryable: false,
    disposition: 'reject',
    summary: 'a key could not be loaded or is too weak',
  },
  // decoding input (the record itself is bad: DLQ)
  PHIGATE_ERR_BAD_MAGIC: {
    retryable: false,
    disposition: 'dlq',
    summary: 'value does not start with magic byte 0',
  },
  PHIGATE_ERR_TRUNCATED: {
    retryable: false,
    disposition: 'dlq',
    summary: 'value is shorter than the wire-format header',
  },
  PHIGATE_ERR_UNKNOWN_SCHEMA: {
    retryable: false,
    disposition: 'dlq',
    summary: 'schema id is not known to the registry',
  },
  PHIGATE_ERR_BAD_SCHEMA: {
    retryable: false,
    disposition: 'dlq',
    summary: 'registered schema is not a usable Avro schema',
  },
  PHIGATE_ERR_DECODE: {
    retryable: false,
    disposition: 'dlq',
    summary: 'Avro body does not decode with its writer schema',
  },
  PHIGATE_ERR_NULL_VALUE: {
    retryable: false,
    disposition: 'dlq',
    summary: 'record has no value (tombstone)',
  },
  // applying a destination's plan (fail closed for that destination)
  PHIGATE_ERR_ACTION: { retryable: false, disposition: 'fail_closed', summary: 'a field action failed' },
  PHIGATE_ERR_VALUE_TOO_LONG: {
    retryable: false,
    disposition: 'fail_closed',
    summary: 'value too long for one RSA-OAEP block',
  },
  PHIGATE_ERR_ENCODE: {
    retryable: false,
    disposition: 'fail_closed',
    summary: 'sanitized record does not encode',
  },
  PHIGATE_ERR_RECORD_TOO_LARGE: {
    retryable: false,
    disposition: 'fail_closed',
    summary: 'sanitized record is larger than one produce request may carry',
  },
  PHIGATE_ERR_PLAN: {
    retryable: false,
    disposition: 'fail_closed',
    summary: 'no plan could be compiled for this schema',
  },
  // dependencies (pause and retry, never DLQ)
  PHIGATE_ERR_REGISTRY_UNAVAILABLE: {
    retryable: true,
    disposition: 'pause',
    summary: 'schema registry unavailable',
  },
  PHIGATE_ERR_REGISTRY_REJECTED: {
    retryable: false,
    disposition: 'fail_closed',
    summary: 'registry refused a derived schema',
  },
  PHIGATE_ERR_BROKER: { retryable: true, disposition: 'pause', summary: 'Kafka broker operation failed' },
  PHIGATE_ERR_TRANSACTION: {
    retryable: true,
    disposition: 'pause',
    summary: 'transaction aborted; batch retried',
  },
  PHIGATE_ERR_FENCED: {
    retryable: false,
    disposition: 'fatal',
    summary: 'producer fenced by a newer instance of the same transactional id',
  },
  PHIGATE_ERR_PARTITION_MOVED: {
    retryable: false,
    disposition: 'abandon',
    summary: 'the input partition has a new owner; its batch is left to that owner',
  },
  PHIGATE_ERR_KAFKA_AUTH: {
    retryable: false,
    disposition: 'fatal',
    summary: 'the Kafka brokers refused the SASL credentials (a retry cannot fix a wrong password)',
  },
  PHIGATE_ERR_KAFKA_TLS: {
    retryable: false,
    disposition: 'fatal',
    summary:
      'the TLS handshake with a Kafka broker failed (its certificate is not trusted or not for its address)',
  },
  PHIGATE_ERR_KAFKA_FATAL: {
    retryable: false,
    disposition: 'fatal',
    summary: 'the Kafka client reported an unrecoverable error',
  },
  PHIGATE_ERR_BAD_BATCH: {
    retryable: false,
    disposition: 'dlq',
    summary: 'an input record batch cannot be read (corrupt, or inflates beyond the limit)',
  },
  PHIGATE_ERR_INTERNAL: {
    retryable: false,
    disposition: 'fatal',
    summary: 'unexpected error (a bug): the instance stops without committing the batch',
  },
  // lifecycle and CLI
  PHIGATE_ERR_CLOSED: { retryable: false, disposition: 'reject', summary: 'component is closed' },
  PHIGATE_ERR_USAGE: { retryable: false, disposition: 'reject', summary: 'command-line usage error' },
  PHIGATE_ERR_INPUT: { retryable: false, disposition: 'reject', summary: 'input file is not usable' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

/** One problem inside a larger validation: where it is and what is wrong (never a secret or a value). */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

export class PhiGateError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly disposition: Disposition;
  /** Every problem found, for validation errors that report all at once. */
  readonly problems: readonly Problem[];

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; problems?: readonly Problem[] },
  ) {
    const entry = ERRORS[code];
    super(message ?? entry.summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PhiGateError';
    this.code = code;
    this.retryable = entry.retryable;
    this.disposition = entry.disposition;
    this.problems = Object.freeze([...(options?.problems ?? [])]);
  }
}

export function isPhiGateError(err: unknown, code?: ErrorCode): err is PhiGateError {
  return err instanceof PhiGateError && (code === undefined || err.code === code);
}

/** Formats a validation error with one line per problem, for CLIs and start-up failures. */
export function formatProblems(err: PhiGateError): string {
  if (err.problems.length === 0) return `${err.code}: ${err.message}`;
  const lines = err.problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`);
  return `${err.code}: ${err.message} (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})\n${lines.join('\n')}`;
}
