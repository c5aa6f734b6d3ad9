/** The kafkajs client configuration from phi-gate's runtime configuration. */
import type { KafkaConfig } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import { kafkajsLogCreator, kafkajsLogLevel } from './log.ts';

export function kafkajsConfig(config: Config, logger: Logger, clientId = config.kafka.clientId): KafkaConfig {
  const { kafka } = config;
  return {
    clientId,
    brokers: [...kafka.brokers],
    ssl: kafka.ssl === false ? false : { ...kafka.ssl },
    ...(kafka.sasl ? { sasl: { ...kafka.sasl } as KafkaConfig['sasl'] } : {}),
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    logLevel: kafkajsLogLevel(config.logLevel),
    logCreator: kafkajsLogCreator(logger),
    retry: { initialRetryTime: 300, retries: 8 },
  };
}
