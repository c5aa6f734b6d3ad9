/**
 * Wires the modules into the running service. Start order: metrics + health server → policy (an
 * invalid one fails start) → registry + audit and inventory schemas → Kafka (admin, topics) → the engine's
 * consumer group and transactional producer → policy watch. `close()` undoes it in reverse, once,
 * however often it is called.
 *
 * A fatal error while running (the catalogue's `fatal`: a fenced producer, an unrecoverable client
 * error, a bug) makes the instance unhealthy and resolves `failed`; `phi-gate run` then closes the
 * app and exits non-zero, with the batch in hand uncommitted.
 */
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Config, describeConfig, transportWarnings } from './config/index.ts';
import { cryptoBackend } from './crypto/native.ts';
import { PhiGateError } from './errors.ts';
import { type KafkaEngine, openKafka } from './kafka/index.ts';
import { createHealthServer, type HealthServer } from './observability/health.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { AuditEncoder } from './pipeline/audit.ts';
import { Decoder } from './pipeline/decode.ts';
import { InventoryEncoder, InventoryPublisher } from './pipeline/inventory.ts';
import { PolicySource } from './pipeline/policy-source.ts';
import { createRoutes } from './pipeline/routes.ts';
import { BatchStep } from './pipeline/step.ts';
import { RegistryClient } from './registry/client.ts';
import { valueSubject } from './registry/schemas.ts';

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
  /** Resolves with the error that ended the instance while it ran (never rejects). */
  readonly failed: Promise<PhiGateError>;
  /**
   * Ends the instance as a fatal error does: unhealthy, one fatal log line with the error's code,
   * `failed` resolves. The engine calls it; `phi-gate run` too, for an error that escaped every handler.
   */
  fail(err: PhiGateError): void;
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
  let engine: KafkaEngine | undefined;
  /** Creates missing destination topics and learns their partition counts; set once Kafka is open. */
  let prepareTopics: (destinations: readonly string[]) => Promise<void> = async () => {
    throw new PhiGateError('PHIGATE_ERR_CLOSED', 'Kafka is not connected yet');
  };
  let resolveFailed: (err: PhiGateError) => void = () => undefined;
  const failed = new Promise<PhiGateError>((resolve) => {
    resolveFailed = resolve;
  });
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
    if (!engine?.joined || !registryClient) return setReady(false);
    // the registry is pinged at most every 5 s, so a scraping probe does not load it
    if (Date.now() - lastPing.at > 5_000) lastPing = { at: Date.now(), ok: await registryClient.ping() };
    return setReady(lastPing.ok);
  }

  function fail(err: PhiGateError): void {
    live = false;
    setReady(false);
    logger.fatal({ err, code: err.code }, `phi-gate must stop: ${err.code}: ${err.message}`);
    resolveFailed(err);
  }

  function setReady(value: boolean): boolean {
    metrics.ready.set(value ? 1 : 0);
    return value;
  }

  async function start(): Promise<void> {
    logger.info({ config: describeConfig(config) }, 'starting');
    for (const warning of transportWarnings(config)) logger.warn({ setting: 'transport' }, warning);
    if (cryptoBackend.name !== 'native')
      logger.warn(
        { reason: cryptoBackend.reason },
        'native crypto (native/aead) not loaded: JWE values are sealed with node:crypto, about 12x slower per value, and HMACs about 3x slower',
      );
    await health.start();
    closers.push({ name: 'http', close: () => health.close() });

    const client = new RegistryClient({
      ...config.registry,
      onRequest: (operation, outcome) => metrics.registryRequests.inc({ operation, outcome }),
    });
    registryClient = client;
    const { types, routes } = createRoutes(client, metrics);
    policy = await PolicySource.open({
      file: config.policy.file,
      env: options.env,
      topics: {
        input: config.topics.input,
        audit: config.topics.audit,
        dlq: config.topics.dlq,
        inventory: config.topics.inventory,
      },
      // a reload that adds a destination creates its topic first (or is rejected)
      prepare: (next) => prepareTopics(next.destinations.map((d) => d.topic)),
      pollMs: config.policy.pollMs,
      logger,
      metrics,
      onSwap: (next) => routes.retain(next.destinations),
    });
    const source = policy;
    closers.push({ name: 'policy', close: () => source.close() });

    const audit = await AuditEncoder.create(client, config.topics.audit);
    const inventory = new InventoryPublisher({
      topic: config.topics.inventory,
      encoder: await InventoryEncoder.create(client, config.topics.inventory),
      client,
      writer: (id) => {
        const type = types.peek(id);
        return type === undefined ? undefined : { type, schema: types.schema(id) };
      },
      inputSubject: valueSubject(config.topics.input),
      metrics,
      logger,
    });
    const kafka = await openKafka(config, {
      logger,
      metrics,
      hooks: {
        onFatal: fail,
      },
    });
    closers.push({ name: 'kafka admin', close: () => kafka.close() });
    const { topics } = config;
    const partitions = new Map<string, number>();
    prepareTopics = async (destinations) => {
      const counts = await kafka.prepareTopics({
        audit: topics.audit,
        dlq: topics.dlq,
        inventory: topics.inventory,
        destinations,
      });
      for (const [topic, n] of counts) partitions.set(topic, n);
    };
    await prepareTopics(source.current.destinations.map((d) => d.topic));

    const step = new BatchStep(
      {
        decoder: new Decoder(types),
        routes,
        audit,
        metrics,
        dlqTopic: topics.dlq,
        auditTopic: topics.audit,
        inventory,
        partitionsOf: (topic) => partitions.get(topic),
        now: Date.now,
      },
      source,
    );
    engine = kafka.engine;
    const running = engine;
    closers.push({ name: 'engine', close: () => running.close() });
    await running.start((batches) => step.run(batches));
    source.start();
    logger.info(
      {
        engine: running.name,
        policy: source.current.version,
        destinations: source.current.destinations.map((d) => d.name),
      },
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
    failed,
    fail,
    start,
    ready,
    close,
  };
}
