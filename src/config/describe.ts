/** describeConfig: the configuration as a plain object that is safe to log at start. */
import type { Config } from './schema.ts';

/** Shown instead of a secret: says that it is configured, nothing about it. */
export const SET = '[set]';

/**
 * Secrets (passwords, the TLS private key) become '[set]'. The CA and client certificates are not
 * secret but are long PEM texts: they are shown as '[set]' too, which is all a reader needs.
 * Written field by field on purpose: a new secret in Config fails the describe test until it is
 * handled here, instead of leaking through a generic copy.
 */
export function describeConfig(config: Config): Record<string, unknown> {
  const { kafka, registry } = config;
  const ssl = kafka.ssl;
  return {
    kafka: {
      brokers: [...kafka.brokers],
      clientId: kafka.clientId,
      ssl:
        ssl === false
          ? false
          : {
              ...(ssl.ca === undefined ? {} : { ca: SET }),
              ...(ssl.cert === undefined ? {} : { cert: SET }),
              ...(ssl.key === undefined ? {} : { key: SET }),
              rejectUnauthorized: ssl.rejectUnauthorized,
            },
      sasl:
        kafka.sasl === null
          ? null
          : { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: SET },
      connectionTimeoutMs: kafka.connectionTimeoutMs,
      requestTimeoutMs: kafka.requestTimeoutMs,
    },
    registry: {
      url: registry.url,
      auth: registry.auth === null ? null : { username: registry.auth.username, password: SET },
      ...(registry.bearerToken === undefined ? {} : { bearerToken: SET }),
      ...(registry.ca === undefined ? {} : { ca: SET }),
      timeoutMs: registry.timeoutMs,
    },
    topics: { ...config.topics },
    groupId: config.groupId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    engine: config.engine,
    transactionalIdPrefix: config.transactionalIdPrefix,
    ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
    policy: { ...config.policy },
    http: { ...config.http },
    logLevel: config.logLevel,
    batch: { ...config.batch },
    partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
    compression: config.compression,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    retry: { ...config.retry },
  };
}
