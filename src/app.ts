/**
 * Wires the modules into the running service. Start order: metrics + health server → policy (an
 * invalid one fails start) → registry + audit schema → topics → transactional producers → consumer
 * → policy watch. `close()` undoes it in reverse, once, however often it is called.
 */
import { Kafka, type KafkaConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Config, describeConfig } from './config/index.ts';
import { PhiGateError } from './errors.ts';
import { createHealthServer, type HealthServer } from './observability/health.ts';
import { instrumentConsumer, instrumentProducer } from './observability/kafka.ts';
import { createLogger, kafkajsLogCreator, kafkajsLogLevel } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { AuditEncoder } from './pipeline/audit.ts';
import { compressionType, registerCodecs } from './pipeline/compression.ts';
import { Decoder } from './pipeline/decode.ts';
import { tuneKafkajs } from './pipeline/kafkajs-tuning.ts';
import { PolicySource } from './pipeline/policy-source.ts';
import { Routes } from './pipeline/routes.ts';
import { Runner } from './pipeline/runner.ts';
import { AUDIT_TOPIC_CONFIG, checkAuditTopic, ensureTopics } from './pipeline/topics.ts';
import { PartitionTransactions } from './pipeline/transactions.ts';
import { RegistryClient } from './registry/client.ts';
import { DerivedSchemas, WriterTypes } from './registry/schemas.ts';

export interface AppOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

export interface App {
  readonly metrics: Metrics;
  readonly registry: Registry;
  readonly logger: Logger;
  /** The bound HTTP port (useful with PHIGATE_METRICS_PORT=0). */
  readonly httpPort: number;
  readonly policy: PolicySource | undefined;
  start(): Promise<void>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export function createApp(config: Config, options: AppOptions): App {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const registry = options.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const closers: Array<{ name: string; close: () => Promise<void> | void }> = [];
  let policy: PolicySource | undefined;
  let runner: Runner | undefined;
  let registryClient: RegistryClient | undefined;
  let live = true;
  let closing: Promise<void> | undefined;
  let lastPing = { at: 0, ok: false };

  const health: HealthServer = createHealthServer({
    host: config.http.host,
    port: config.http.port,
    registry,
    logger,
    isLive: () => live,
    isReady: () => ready(),
  });

  async function ready(): Promise<boolean> {
    if (!runner?.joined || !registryClient) return setReady(false);
    // the registry is pinged at most every 5 s, so a scraping probe does not load it
    if (Date.now() - lastPing.at > 5_000) lastPing = { at: Date.now(), ok: await registryClient.ping() };
    return setReady(lastPing.ok);
  }

  function setReady(value: boolean): boolean {
    metrics.ready.set(value ? 1 : 0);
    return value;
  }

  async function start(): Promise<void> {
    logger.info({ config: describeConfig(config) }, 'starting');
    await health.start();
    closers.push({ name: 'http', close: () => health.close() });

    const client = new RegistryClient({
      url: config.registry.url,
      auth: config.registry.auth,
      timeoutMs: config.registry.timeoutMs,
      onRequest: (operation, outcome) => metrics.registryRequests.inc({ operation, outcome }),
    });
    registryClient = client;
    const types = new WriterTypes(client, (n) => metrics.registryCacheSize.set({ cache: 'writer' }, n));
    const derived = new DerivedSchemas(client, (n) => metrics.registryCacheSize.set({ cache: 'derived' }, n));
    const routes = new Routes(derived, (id) => types.schema(id));
    policy = await PolicySource.open({
      file: config.policy.file,
      env: options.env,
      pollMs: config.policy.pollMs,
      logger,
      metrics,
      onSwap: (next) => routes.retain(next.destinations),
    });
    const source = policy;
    closers.push({ name: 'policy', close: () => source.close() });

    registerCodecs(); // input batches in any Kafka codec
    tuneKafkajs();
    const kafka = new Kafka(kafkaConfig(config, logger));
    const admin = kafka.admin();
    await admin.connect();
    closers.push({ name: 'admin', close: () => admin.disconnect() });

    const audit = await AuditEncoder.create(client, config.topics.audit);
    const { topics } = config;
    const partitions = await ensureTopics(
      admin,
      [
        { topic: topics.audit, config: AUDIT_TOPIC_CONFIG },
        { topic: topics.dlq },
        ...source.current.destinations.map((d) => ({ topic: d.topic })),
      ],
      { create: topics.create, partitions: topics.partitions, replicationFactor: topics.replicationFactor },
    );
    await checkAuditTopic(admin, topics.audit);
    const knownInput = await admin.listTopics();
    if (!knownInput.includes(topics.input)) {
      throw new PhiGateError('PHIGATE_ERR_CONFIG', `input topic ${topics.input} does not exist`);
    }

    const transactions = new PartitionTransactions({
      kafka,
      transactionalIdPrefix: config.transactionalIdPrefix,
      groupId: config.groupId,
      metrics,
      compression: compressionType(config.compression),
      instrument: (producer, client) => instrumentProducer(producer, metrics, client),
    });
    closers.push({ name: 'producers', close: () => transactions.close() });

    runner = new Runner({
      kafka,
      admin,
      inputTopic: topics.input,
      groupId: config.groupId,
      batch: config.batch,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      retry: config.retry,
      context: {
        decoder: new Decoder(types),
        routes,
        audit,
        metrics,
        dlqTopic: topics.dlq,
        auditTopic: topics.audit,
        partitionsOf: (topic) => partitions.get(topic),
        now: Date.now,
      },
      policy: source,
      transactions,
      metrics,
      logger,
      instrument: (consumer) => instrumentConsumer(consumer, metrics, 'consumer'),
    });
    const consumer = runner;
    closers.push({ name: 'consumer', close: () => consumer.close() });
    await consumer.start();
    source.start();
    logger.info(
      { policy: source.current.version, destinations: source.current.destinations.map((d) => d.name) },
      'phi-gate started',
    );
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      live = false;
      setReady(false);
      // reverse start order; each step runs even if an earlier one failed
      for (const { name, close: stop } of closers.reverse()) {
        try {
          await stop();
        } catch (err) {
          logger.warn({ err, step: name }, 'error while closing');
        }
      }
      logger.info('phi-gate stopped');
    })();
    return closing;
  }

  return {
    metrics,
    registry,
    logger,
    get httpPort() {
      return health.port;
    },
    get policy() {
      return policy;
    },
    start,
    ready,
    close,
  };
}

function kafkaConfig(config: Config, logger: Logger): KafkaConfig {
  const { kafka } = config;
  return {
    clientId: kafka.clientId,
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
