/**
 * librdkafka errors onto the catalogue (src/errors.ts). A librdkafka error carries a numeric code
 * and flags (fatal, retriable, transaction-requires-abort); those decide, not its text.
 */
import { PhiGateError } from '../../errors.ts';

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

const AUTH = new Set<number>([CODE.AUTHENTICATION, CODE.SASL_AUTHENTICATION_FAILED, CODE.SSL]);

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
  if (AUTH.has(err.code))
    return new PhiGateError('PHIGATE_ERR_KAFKA_FATAL', `authentication failed (${what})`, { cause: err });
  if (err.isFatal) return new PhiGateError('PHIGATE_ERR_KAFKA_FATAL', what, { cause: err });
  if (err.code === CODE.BAD_COMPRESSION || err.code === CODE.BAD_MSG) {
    return new PhiGateError(
      'PHIGATE_ERR_BAD_BATCH',
      `an input record batch was skipped by the client (${what})`,
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
