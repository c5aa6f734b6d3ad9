/**
 * One connection attempt, without retries, before any client that retries connects: a password the
 * brokers refuse or a broker certificate that is not trusted ends start-up at once with a coded
 * error, instead of hiding in a retry loop. kafkajs gives up on a refused SASL login at once, but
 * retries a failed TLS handshake like any connection error (for over a minute with phi-gate's
 * retry settings); a certificate does not fix itself.
 *
 * Anything else (a broker not up yet, a timeout) is left to the clients' own retries, as before.
 */
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { PhiGateError } from '../../errors.ts';
import { REFUSAL_ADVICE } from '../refusals.ts';

/** kafkajs errors that mean the SASL login itself was refused (error names and protocol types). */
const SASL_REFUSED = new Set([
  'KafkaJSSASLAuthenticationError',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
]);

/** Node's certificate verification failures (tls.TLSSocket#authorizationError codes). */
const CERTIFICATE_REFUSED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

function isTlsFailure(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    (CERTIFICATE_REFUSED.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))
  );
}

/**
 * The catalogue error for a connection that a retry cannot fix: PHIGATE_ERR_KAFKA_AUTH or
 * PHIGATE_ERR_KAFKA_TLS; undefined for anything else. Messages name the setting to check and the
 * user name, never the password.
 */
export function classifyConnectError(err: unknown, config: KafkaConfig): PhiGateError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { name, type, code, message, cause } = err as {
    name?: unknown;
    type?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  // the retrier wraps the last attempt's error (KafkaJSNumberOfRetriesExceeded)
  if (name === 'KafkaJSNumberOfRetriesExceeded' && cause !== undefined) {
    const inner = classifyConnectError(cause, config);
    if (inner !== undefined) return inner;
  }
  const reason = typeof message === 'string' ? message : String(name);
  if (SASL_REFUSED.has(String(name)) || SASL_REFUSED.has(String(type))) {
    const sasl = config.sasl as { mechanism?: string; username?: string } | undefined;
    return new PhiGateError(
      'PHIGATE_ERR_KAFKA_AUTH',
      `Kafka authentication failed: the broker refused SASL ${sasl?.mechanism ?? ''} for user ` +
        `${JSON.stringify(sasl?.username ?? '')} (${reason}); ${REFUSAL_ADVICE.PHIGATE_ERR_KAFKA_AUTH}`,
      { cause: err },
    );
  }
  if (isTlsFailure(code)) {
    return new PhiGateError(
      'PHIGATE_ERR_KAFKA_TLS',
      `TLS handshake with the Kafka broker failed: ${reason} (${String(code)}); ${REFUSAL_ADVICE.PHIGATE_ERR_KAFKA_TLS}`,
      { cause: err },
    );
  }
  return undefined;
}

/**
 * Connects once with `config` (kafkajs's client configuration), no retries, and disconnects.
 * @throws PhiGateError PHIGATE_ERR_KAFKA_AUTH or PHIGATE_ERR_KAFKA_TLS; other failures are ignored.
 */
export async function verifyConnection(config: KafkaConfig): Promise<void> {
  // a client of its own, silent: its one failure is reported as the thrown error
  const admin = new Kafka({ ...config, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
  } catch (err) {
    const refused = classifyConnectError(err, config);
    if (refused !== undefined) throw refused;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
