/**
 * librdkafka errors onto the catalogue (src/errors.ts). A librdkafka error carries a numeric code
 * and flags (fatal, retriable, transaction-requires-abort); those decide, not its text.
 */
import { PhiGateError } from '../../errors.ts';
import { REFUSAL_ADVICE } from '../refusals.ts';

export interface RdkafkaError {
  readonly message: string;
  readonly code: number;
  readonly origin?: string;
  readonly isFatal?: boolean;
  readonly isRetriable?: boolean;
  readonly isTxnRequiresAbort?: boolean;
}

/** librdkafka error codes used here (rdkafka.h; the client's `CODES.ERRORS`). */
export const CODE = {
  QUEUE_FULL: -184,
  TIMED_OUT: -185,
  BAD_COMPRESSION: -198,
  BAD_MSG: -199,
  STATE: -172,
  AUTHENTICATION: -169,
  SSL: -181,
  FENCED: -144,
  ASSIGNMENT_LOST: -142,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_PRODUCER_EPOCH: 47,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SASL_AUTHENTICATION_FAILED: 58,
  FENCED_INSTANCE_ID: 82,
  PRODUCER_FENCED: 90,
} as const;

/** Another instance runs with this instance's transactional id: this one must stop. */
const FENCED = new Set<number>([
  CODE.FENCED,
  CODE.PRODUCER_FENCED,
  CODE.INVALID_PRODUCER_EPOCH,
  CODE.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
]);

/** The group moved on without this member (KIP-447's generation check): its batch is another's now. */
const MOVED = new Set<number>([
  CODE.ILLEGAL_GENERATION,
  CODE.UNKNOWN_MEMBER_ID,
  CODE.REBALANCE_IN_PROGRESS,
  CODE.FENCED_INSTANCE_ID,
  CODE.ASSIGNMENT_LOST,
]);

/** librdkafka retries these for ever; a retry cannot fix a password or a certificate. */
const REFUSED = new Map<number, 'PHIGATE_ERR_KAFKA_AUTH' | 'PHIGATE_ERR_KAFKA_TLS'>([
  [CODE.AUTHENTICATION, 'PHIGATE_ERR_KAFKA_AUTH'],
  [CODE.SASL_AUTHENTICATION_FAILED, 'PHIGATE_ERR_KAFKA_AUTH'],
  [CODE.SSL, 'PHIGATE_ERR_KAFKA_TLS'],
]);

/**
 * The client's error events lose their code on the way to JavaScript (error -1, only librdkafka's
 * text, lower-cased, without its "Local: " or "Broker: " origin): the texts of the codes above
 * (rd_kafka_err2str).
 */
const REFUSED_TEXT = new Map<string, number>([
  ['authentication failure', CODE.AUTHENTICATION],
  ['sasl authentication failed', CODE.SASL_AUTHENTICATION_FAILED],
  ['ssl error', CODE.SSL],
]);

const HINT = {
  PHIGATE_ERR_KAFKA_AUTH: `Kafka authentication failed: the broker refused the SASL credentials; ${REFUSAL_ADVICE.PHIGATE_ERR_KAFKA_AUTH}`,
  PHIGATE_ERR_KAFKA_TLS: `TLS handshake with the Kafka broker failed; ${REFUSAL_ADVICE.PHIGATE_ERR_KAFKA_TLS}`,
} as const;

function refused(err: RdkafkaError): PhiGateError | undefined {
  const code = err.code === -1 ? REFUSED_TEXT.get(err.message.toLowerCase()) : err.code;
  const catalogue = code === undefined ? undefined : REFUSED.get(code);
  if (catalogue === undefined) return undefined;
  return new PhiGateError(catalogue, `${HINT[catalogue]} (librdkafka ${code}: ${err.message})`, {
    cause: err,
  });
}

/** librdkafka's log lines (facility FAIL) for a refused login or certificate (rdkafka_sasl.c, rdkafka_ssl.c). */
const REFUSED_LOG: readonly [RegExp, keyof typeof HINT][] = [
  [/SASL authentication error|SASL .*authentication failed/i, 'PHIGATE_ERR_KAFKA_AUTH'],
  [/SSL handshake failed|certificate verify failed/i, 'PHIGATE_ERR_KAFKA_TLS'],
];

/**
 * The error of a client whose connect (which waits for the cluster's metadata) failed. librdkafka
 * does not fail a connect for a refused login or certificate: it retries until the metadata request
 * times out. The reason shows only before that: as an error event, which the client keeps
 * (`lastError`) when something polled it, and as a log line (facility FAIL), which always arrives
 * (`lastFailure`). A refusal among them is what the start-up error names; any other failure is a
 * broker that could not be reached in time. librdkafka's log lines name brokers and reasons, never
 * credentials.
 */
export function connectFailure(err: unknown, lastError: unknown, lastFailure: string | undefined): unknown {
  if (isRdkafkaError(lastError)) {
    const cause = refused(lastError);
    if (cause !== undefined) return cause;
  }
  for (const [pattern, code] of REFUSED_LOG) {
    if (lastFailure !== undefined && pattern.test(lastFailure))
      return new PhiGateError(code, `${HINT[code]} (librdkafka: ${lastFailure})`, { cause: err });
  }
  if (!isRdkafkaError(err)) return err;
  const last = lastFailure === undefined ? '' : `; last: ${lastFailure}`;
  return new PhiGateError(
    'PHIGATE_ERR_BROKER',
    `no Kafka broker answered within KAFKA_CONNECTION_TIMEOUT_MS (librdkafka ${err.code}: ${err.message}${last})`,
    { cause: err },
  );
}

export function isRdkafkaError(err: unknown): err is RdkafkaError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'number' &&
    typeof (err as { message?: unknown }).message === 'string' &&
    'origin' in err
  );
}

/**
 * A catalogue error for a librdkafka error; anything else (a TypeError, a bug) is returned as it is,
 * and the retry loop treats it as fatal.
 */
export function classify(err: unknown): unknown {
  if (err instanceof PhiGateError || !isRdkafkaError(err)) return err;
  const what = `librdkafka ${err.code}: ${err.message}`;
  if (FENCED.has(err.code)) {
    return new PhiGateError(
      'PHIGATE_ERR_FENCED',
      `producer fenced (${what}): another instance runs with this transactional id (PHIGATE_INSTANCE_ID)`,
      { cause: err },
    );
  }
  const refusal = refused(err);
  if (refusal !== undefined) return refusal;
  if (err.isFatal) return new PhiGateError('PHIGATE_ERR_KAFKA_FATAL', what, { cause: err });
  if (err.code === CODE.BAD_COMPRESSION || err.code === CODE.BAD_MSG) {
    return new PhiGateError(
      'PHIGATE_ERR_BAD_BATCH',
      `the client cannot read an input record batch (${what})`,
      {
        cause: err,
      },
    );
  }
  if (MOVED.has(err.code)) {
    return new PhiGateError('PHIGATE_ERR_PARTITION_MOVED', `the group rebalanced (${what})`, { cause: err });
  }
  return new PhiGateError('PHIGATE_ERR_TRANSACTION', `transaction failed (${what})`, { cause: err });
}
