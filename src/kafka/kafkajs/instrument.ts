/**
 * kafkajs instrumentation events → the metrics of metrics.ts: protocol requests per client and API
 * with their duration, and consumer-group events (join, rebalancing, crash, stop).
 *
 * Label values come only from the client name given by the app and from kafkajs's closed set of
 * Kafka protocol API names; anything else becomes 'unknown'. Label children are looked up once per
 * (client, API) and reused. Listeners never throw: kafkajs calls them synchronously from its own
 * request path, so a metrics failure must not become a Kafka failure.
 */
import type { Admin, Consumer, Producer, RemoveInstrumentationEventListener, RequestEvent } from 'kafkajs';
import type { Counter } from 'prom-client';
import { kafkaApiLabel, type Metrics } from '../../observability/metrics.ts';

type RebalanceEvent = 'join' | 'rebalancing' | 'crash' | 'stop';

function onRequest(metrics: Metrics, client: string): (event: RequestEvent) => void {
  const duration = metrics.kafkaRequestDuration.labels({ client });
  const counters = new Map<unknown, Counter.Internal>();
  const counterFor = (apiName: unknown): Counter.Internal => {
    let counter = counters.get(apiName);
    if (counter === undefined) {
      counter = metrics.kafkaRequests.labels({ client, api: kafkaApiLabel(apiName) });
      counters.set(apiName, counter);
    }
    return counter;
  };
  return (event) => {
    const payload = event.payload as Partial<RequestEvent['payload']> | undefined;
    counterFor(payload?.apiName).inc();
    const ms = payload?.duration;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) duration.observe(ms / 1000);
  };
}

function onGroupEvent(metrics: Metrics, event: RebalanceEvent): () => void {
  const counter = metrics.rebalances.labels({ event });
  return () => counter.inc();
}

/** One function that removes every listener, once. */
function removeAll(removers: RemoveInstrumentationEventListener<string>[]): () => void {
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    for (const remove of removers) remove();
  };
}

/** Counts the consumer's requests and group events. Returns a function that unsubscribes. */
export function instrumentConsumer(consumer: Consumer, metrics: Metrics, client: string): () => void {
  const { REQUEST, GROUP_JOIN, REBALANCING, CRASH, STOP } = consumer.events;
  return removeAll([
    consumer.on(REQUEST, onRequest(metrics, client)),
    consumer.on(GROUP_JOIN, onGroupEvent(metrics, 'join')),
    consumer.on(REBALANCING, onGroupEvent(metrics, 'rebalancing')),
    consumer.on(CRASH, onGroupEvent(metrics, 'crash')),
    consumer.on(STOP, onGroupEvent(metrics, 'stop')),
  ]);
}

/** Counts the producer's requests (Produce, AddPartitionsToTxn, EndTxn, ...). Returns an unsubscribe. */
export function instrumentProducer(producer: Producer, metrics: Metrics, client: string): () => void {
  return removeAll([producer.on(producer.events.REQUEST, onRequest(metrics, client))]);
}

/** Counts the admin client's requests (CreateTopics, Metadata, ...). Returns an unsubscribe. */
export function instrumentAdmin(admin: Admin, metrics: Metrics, client: string): () => void {
  return removeAll([admin.on(admin.events.REQUEST, onRequest(metrics, client))]);
}
