/**
 * What to check when the brokers refuse phi-gate's SASL credentials or its TLS handshake: one text
 * for the start-up errors of both engines (kafkajs/verify.ts, rdkafka/errors.ts).
 */
export const REFUSAL_ADVICE = {
  PHIGATE_ERR_KAFKA_AUTH: 'check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD(_FILE)',
  PHIGATE_ERR_KAFKA_TLS:
    'check that KAFKA_SSL_CA_FILE holds the CA that signed the broker certificate and that KAFKA_BROKERS ' +
    'names an address the certificate is for',
} as const;
