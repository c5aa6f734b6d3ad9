/**
 * librdkafka configuration from phi-gate's runtime configuration: the shared connection settings,
 * then what the consumer and the transactional producer add. Property names are librdkafka's
 * (CONFIGURATION.md of librdkafka).
 */
import type {
  ConsumerGlobalConfig,
  ConsumerTopicConfig,
  GlobalConfig,
  ProducerGlobalConfig,
  ProducerTopicConfig,
} from '@confluentinc/kafka-javascript';
import type { Config } from '../../config/index.ts';
import { heartbeatIntervalMs } from '../engine.ts';
import { STATISTICS_INTERVAL_MS } from './stats.ts';

/**
 * Transactions time out this long after they begin. A batch's transaction lives for well under a
 * second; after a kill -9 the coordinator aborts the dead instance's open transaction after this
 * long, and only then does the next owner of its partitions read their committed offsets (they are
 * unstable until then). Kafka Streams uses the same 10 s for exactly-once.
 */
export const TRANSACTION_TIMEOUT_MS = 10_000;

/** librdkafka syslog levels for pino levels (librdkafka filters before it logs). */
function logLevel(level: string): number {
  switch (level) {
    case 'trace':
    case 'debug':
      return 7;
    case 'info':
      return 6;
    case 'warn':
      return 4;
    default:
      return 3;
  }
}

export function connectionConfig(config: Config, clientId: string): GlobalConfig {
  const { kafka } = config;
  const sasl = kafka.sasl;
  const ssl = kafka.ssl;
  const protocol = `${sasl ? 'sasl_' : ''}${ssl ? 'ssl' : 'plaintext'}` as const;
  const out: GlobalConfig = {
    'bootstrap.servers': kafka.brokers.join(','),
    'client.id': clientId,
    'security.protocol': protocol,
    'socket.connection.setup.timeout.ms': kafka.connectionTimeoutMs,
    'socket.timeout.ms': Math.max(kafka.requestTimeoutMs, 10),
    log_level: logLevel(config.logLevel),
    // logs arrive as 'event.log' events (log.ts bridges them into pino)
    event_cb: true,
  };
  if (ssl) {
    if (ssl.ca) out['ssl.ca.pem'] = ssl.ca;
    if (ssl.cert) out['ssl.certificate.pem'] = ssl.cert;
    if (ssl.key) out['ssl.key.pem'] = ssl.key;
    out['enable.ssl.certificate.verification'] = ssl.rejectUnauthorized;
  }
  if (sasl) {
    out['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    out['sasl.username'] = sasl.username;
    out['sasl.password'] = sasl.password;
  }
  return out;
}

/**
 * What a consumer of the input holds and inflates; the engine's consumer and the probe that looks
 * for an unreadable batch (unreadable.ts) read with the same limits, so they fail alike.
 */
export const FETCH_LIMITS = {
  // prefetch bound: librdkafka's default queues up to 64 MiB of records ahead of the loop, and a
  // backlog fills it at once (peak RSS over a 200k backlog: 377 MB at the default, 320 at 8 MiB,
  // 297 at 2 MiB, events/s within noise); 2 MiB still hold several full batches of 1000 records
  'queued.max.messages.kbytes': 2048,
  // when that queue is full, librdkafka waits this long before it fetches again (default 1 s: with
  // a small queue the consumer starved, a burst of batches then ~850 ms idle, every second)
  'fetch.queue.backoff.ms': 10,
  // a batch inflating past this is refused by librdkafka (an unreadable batch: the engine
  // dead-letters its offset), as kafkajs/compression.ts bounds every codec at MAX_BATCH_BYTES: zstd
  // by librdkafka itself, gzip and lz4 by deploy/local/librdkafka-inflation.patch, applied at build.
  // A fetch response must fit too: fetch.max.bytes stays below it.
  'receive.message.max.bytes': 64 * 1024 * 1024,
  'fetch.max.bytes': 16 * 1024 * 1024,
} as const satisfies ConsumerGlobalConfig;

export function consumerConfig(config: Config): ConsumerGlobalConfig {
  return {
    ...connectionConfig(config, config.kafka.clientId),
    'group.id': config.groupId,
    // offsets are committed only inside transactions (sendOffsetsToTransaction)
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    // skip aborted transactions' records, and fetch committed offsets only once they are stable
    'isolation.level': 'read_committed',
    // eager: a rebalance revokes every partition and reassigns from the committed offsets, so a
    // batch in hand at a rebalance is simply given up (engine.ts)
    'partition.assignment.strategy': 'range',
    'session.timeout.ms': config.sessionTimeoutMs,
    'heartbeat.interval.ms': heartbeatIntervalMs(config.sessionTimeoutMs),
    'max.poll.interval.ms': 300_000,
    'fetch.wait.max.ms': Math.min(config.batch.maxMs, 500),
    ...FETCH_LIMITS,
    'allow.auto.create.topics': false,
    'enable.partition.eof': false,
    rebalance_cb: true,
    // request counts and round-trip times for the metrics (stats.ts)
    'statistics.interval.ms': STATISTICS_INTERVAL_MS,
  };
}

export function producerConfig(config: Config, transactionalId: string): ProducerGlobalConfig {
  return {
    ...connectionConfig(config, `${config.kafka.clientId}-producer`),
    // librdkafka requires it for a transactional producer
    'socket.timeout.ms': Math.min(Math.max(config.kafka.requestTimeoutMs, 10), TRANSACTION_TIMEOUT_MS),
    'transactional.id': transactionalId,
    'enable.idempotence': true,
    'transaction.timeout.ms': TRANSACTION_TIMEOUT_MS,
    'compression.codec': config.compression,
    // records go out 1 ms after they are queued, so they are written while the offsets are sent
    // and the commit's flush finds them acknowledged (at 5 ms the commit waited for the last
    // batches' produce requests). Under load the batches fill regardless. Measured at a fixed
    // 9,000 events/s: commit p50 8 → 4–5 ms, latency p50 lower in 5 of 7 pairs, events/s
    // unchanged; 0 ms was worse (BENCHMARKS.md, session 11)
    'linger.ms': 1,
    // a transaction that begins while the coordinator still writes the previous one's markers is
    // told CONCURRENT_TRANSACTIONS and retries after this (librdkafka's default: 100 ms, so back to
    // back transactions took 100 ms at least; the Java producer uses 20 ms for these). Measured, at
    // half load: transaction 52.6 → 28.6 ms, latency p99 334 → 179 ms (BENCHMARKS.md)
    'retry.backoff.ms': 10,
    // a whole batch (records × destinations + audit entries) is queued before the commit flushes it
    'queue.buffering.max.messages': 1_000_000,
    dr_cb: false,
    'statistics.interval.ms': STATISTICS_INTERVAL_MS,
  };
}

export const CONSUMER_TOPIC_CONFIG: ConsumerTopicConfig = { 'auto.offset.reset': 'earliest' };

/** Keyed records placed as the Java client places them; keyless ones get an explicit partition. */
export const PRODUCER_TOPIC_CONFIG: ProducerTopicConfig = { partitioner: 'murmur2_random' };
