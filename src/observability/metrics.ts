/**
 * Every metric phi-gate exports, defined in one place on an injected registry (never prom-client's
 * global one, which breaks test isolation). Label values come from configuration (destination
 * names, topics), from closed sets (outcomes, actions, error codes) or from partition numbers —
 * never from event data.
 *
 * The dashboard and alert rules in deploy/ are checked against these names by a test.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';

export const METRIC_PREFIX = 'phigate_';

/** Kafka protocol API names are PascalCase words: Produce, Fetch, AddPartitionsToTxn, ... */
const KAFKA_API_NAME = /^[A-Za-z]{1,64}$/;

/**
 * The `api` label of phigate_kafka_requests_total: a protocol API name as a Kafka client reports it,
 * or 'unknown' for anything else (both engines' instrumentation).
 */
export function kafkaApiLabel(name: unknown): string {
  return typeof name === 'string' && KAFKA_API_NAME.test(name) ? name : 'unknown';
}

// finer between 50 and 250 ms, where a p99 target of 100 ms is told apart from its neighbours
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export function createMetrics(registry: Registry, options: { defaultMetrics?: boolean } = {}) {
  const registers = [registry];
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  return {
    eventsConsumed: new Counter({
      name: 'phigate_events_consumed_total',
      help: 'Input records consumed, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    destinationEvents: new Counter({
      name: 'phigate_destination_events_total',
      help: 'Events per destination by outcome: delivered, filtered, filtered_consent, failed_closed',
      labelNames: ['destination', 'outcome'] as const,
      registers,
    }),
    failClosed: new Counter({
      name: 'phigate_fail_closed_total',
      help: 'Events a destination did not receive because a rule failed, by error code',
      labelNames: ['destination', 'code'] as const,
      registers,
    }),
    fieldActions: new Counter({
      name: 'phigate_field_actions_total',
      help: 'Field actions applied, by destination and action',
      labelNames: ['destination', 'action'] as const,
      registers,
    }),
    dlqRecords: new Counter({
      name: 'phigate_dlq_records_total',
      help: 'Input records sent to the dead-letter topic, by error code',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: 'phigate_batch_duration_seconds',
      help: 'Time to process one batch, decode to commit',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchSize: new Histogram({
      name: 'phigate_batch_size_records',
      help: 'Input records per batch',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    transactionDuration: new Histogram({
      name: 'phigate_transaction_duration_seconds',
      help: 'Time from the first send of a transaction to its commit or abort',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    transactions: new Counter({
      name: 'phigate_transactions_total',
      help: 'Transactions by outcome: committed, aborted',
      labelNames: ['outcome'] as const,
      registers,
    }),
    transactionsFoundCommitted: new Counter({
      name: 'phigate_transactions_found_committed_total',
      help: 'Transactions reported as failed (and counted aborted) that the committed offsets showed committed: a commit answer lost or garbled',
      registers,
    }),
    endToEndLatency: new Histogram({
      name: 'phigate_end_to_end_latency_seconds',
      help: 'Input record timestamp to the commit of its outputs',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'phigate_consumer_lag',
      help: 'High watermark minus committed position, per input partition',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    pauses: new Counter({
      name: 'phigate_pauses_total',
      help: 'Times processing paused to back off from an unavailable dependency',
      labelNames: ['reason'] as const,
      registers,
    }),
    registryRequests: new Counter({
      name: 'phigate_registry_requests_total',
      help: 'Schema registry requests by operation and outcome',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    registryCacheSize: new Gauge({
      name: 'phigate_registry_cache_entries',
      help: 'Entries in the schema caches: writer types, derived schemas',
      labelNames: ['cache'] as const,
      registers,
    }),
    policyInfo: new Gauge({
      name: 'phigate_policy_info',
      help: 'The policy version in force per destination (value 1)',
      labelNames: ['destination', 'version'] as const,
      registers,
    }),
    inventoryUnreviewed: new Gauge({
      name: 'phigate_inventory_unreviewed_fields',
      help: 'Fields of the latest input schema seen that are new since the reviewed version and that no rule of the destination names',
      labelNames: ['destination'] as const,
      registers,
    }),
    policyReloads: new Counter({
      name: 'phigate_policy_reloads_total',
      help: 'Policy reload attempts by outcome: applied, rejected, unchanged',
      labelNames: ['outcome'] as const,
      registers,
    }),
    kafkaRequests: new Counter({
      name: 'phigate_kafka_requests_total',
      help: 'Kafka protocol requests by client and API',
      labelNames: ['client', 'api'] as const,
      registers,
    }),
    kafkaRequestDuration: new Histogram({
      name: 'phigate_kafka_request_duration_seconds',
      help: 'Kafka protocol request duration by client',
      labelNames: ['client'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    kafkaRtt: new Gauge({
      name: 'phigate_kafka_rtt_seconds',
      help: "Kafka request round-trip time by client over librdkafka's last statistics interval (librdkafka engine): the slowest broker connection's quantile",
      labelNames: ['client', 'quantile'] as const,
      registers,
    }),
    rebalances: new Counter({
      name: 'phigate_rebalances_total',
      help: 'Consumer group events: join, crash, stop',
      labelNames: ['event'] as const,
      registers,
    }),
    ready: new Gauge({
      name: 'phigate_ready',
      help: '1 when joined to the group and the registry is reachable',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
