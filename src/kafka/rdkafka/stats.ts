/**
 * librdkafka's statistics → the metrics of metrics.ts. librdkafka reports no event per request to
 * JavaScript (the kafkajs engine's instrument.ts counts each one); it emits a statistics document
 * every STATISTICS_INTERVAL_MS instead (`statistics.interval.ms`, librdkafka's STATISTICS.md), and
 * two of its figures per broker connection become:
 *
 *   phigate_kafka_requests_total{client, api}  requests sent, by protocol API: the counter the kafkajs
 *                                              engine feeds (each connection's cumulative `req` counts,
 *                                              added as they grow)
 *   phigate_kafka_rtt_seconds{client, quantile}  request round-trip time over the last interval, p50
 *                                              and p99 of the slowest connection (`rtt`)
 *
 * Every connection counts: the brokers', and librdkafka's handles for the bootstrap servers and for
 * the transaction and group coordinators (`TxnCoordinator`, `GroupCoordinator`: their own
 * connections, which carry AddPartitionsToTxn, EndTxn, JoinGroup, Heartbeat …). Label values come
 * from the client name the engine gives and from librdkafka's closed set of protocol API names.
 * The document names topics and brokers only, never record contents, and a document that cannot be
 * read is ignored: metrics never become a Kafka failure.
 */
import type { EventEmitter } from 'node:events';
import type { KafkaConsumer, Producer } from '@confluentinc/kafka-javascript';
import { kafkaApiLabel, type Metrics } from '../../observability/metrics.ts';

/** How often librdkafka reports (and the metrics above move): well inside a 30 s scrape. */
export const STATISTICS_INTERVAL_MS = 10_000;

/** The part of a broker handle's entry in librdkafka's statistics that is read here. */
interface BrokerStatistics {
  /** Requests sent over this connection, by API, since it was created. */
  readonly req?: Readonly<Record<string, number>>;
  /** Round-trip times (µs) of the requests answered in the last interval. */
  readonly rtt?: { readonly cnt?: number; readonly p50?: number; readonly p99?: number };
}

export interface Statistics {
  readonly brokers?: Readonly<Record<string, BrokerStatistics>>;
}

/** Feeds one client's statistics documents to the metrics; one per client instance. */
export class StatisticsBridge {
  readonly #metrics: Metrics;
  readonly #client: string;
  /** broker handle name → API → requests counted so far. */
  readonly #counted = new Map<string, Map<string, number>>();

  constructor(metrics: Metrics, client: string) {
    this.#metrics = metrics;
    this.#client = client;
  }

  record(statistics: Statistics): void {
    let p50 = -1;
    let p99 = -1;
    for (const [name, broker] of Object.entries(statistics.brokers ?? {})) {
      this.#countRequests(name, broker.req ?? {});
      const rtt = broker.rtt;
      if (rtt !== undefined && (rtt.cnt ?? 0) > 0) {
        p50 = Math.max(p50, rtt.p50 ?? -1);
        p99 = Math.max(p99, rtt.p99 ?? -1);
      }
    }
    const gauge = this.#metrics.kafkaRtt;
    // no request answered in the interval: no round-trip time to show, rather than a stale one
    for (const [quantile, us] of [
      ['0.5', p50],
      ['0.99', p99],
    ] as const) {
      if (us >= 0) gauge.set({ client: this.#client, quantile }, us / 1e6);
      else gauge.remove({ client: this.#client, quantile });
    }
  }

  #countRequests(broker: string, requests: Readonly<Record<string, number>>): void {
    let counted = this.#counted.get(broker);
    if (counted === undefined) {
      counted = new Map();
      this.#counted.set(broker, counted);
    }
    for (const [api, total] of Object.entries(requests)) {
      if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0) continue;
      const before = counted.get(api) ?? 0;
      // a connection librdkafka re-created starts counting from zero again
      const added = total >= before ? total - before : total;
      counted.set(api, total);
      if (added > 0)
        this.#metrics.kafkaRequests.inc({ client: this.#client, api: kafkaApiLabel(api) }, added);
    }
  }
}

/** Subscribes the metrics to a client's statistics (its config must set `statistics.interval.ms`). */
export function bridgeStatistics(
  rdkafkaClient: KafkaConsumer | Producer,
  metrics: Metrics,
  name: string,
): void {
  const bridge = new StatisticsBridge(metrics, name);
  // both clients are EventEmitters; their typings overload `on` per client, which a union cannot call
  (rdkafkaClient as unknown as EventEmitter).on('event.stats', (event: { message?: unknown }) => {
    if (typeof event?.message !== 'string') return;
    let statistics: Statistics;
    try {
      statistics = JSON.parse(event.message) as Statistics;
    } catch {
      return;
    }
    bridge.record(statistics);
  });
}
