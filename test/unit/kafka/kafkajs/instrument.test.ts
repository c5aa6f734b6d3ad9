/**
 * kafkajs keeps its instrumentation emitter private, so without a broker events cannot be emitted
 * through a real client. These tests check that real clients accept the subscriptions, and drive
 * the listeners through a stand-in that behaves like kafkajs's `on` (same event names, rejects
 * unknown ones). test/integration/observability/kafka.test.ts checks the real events on a broker.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import {
  instrumentAdmin,
  instrumentConsumer,
  instrumentProducer,
} from '../../../../src/kafka/kafkajs/instrument.ts';
import { createMetrics, type Metrics } from '../../../../src/observability/metrics.ts';

const kafka = new Kafka({ clientId: 'unit', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });

/** A client whose `on` works like kafkajs's and whose events can be emitted by hand. */
function standIn<T extends Consumer | Producer>(real: T) {
  const listeners = new Map<string, Set<(event: unknown) => void>>();
  const names = new Set<string>(Object.values(real.events));
  const client = {
    events: real.events,
    on(name: string, listener: (event: unknown) => void) {
      if (!names.has(name)) throw new Error(`Event name should be one of ${[...names]}`);
      const set = listeners.get(name) ?? new Set();
      set.add(listener);
      listeners.set(name, set);
      return () => set.delete(listener);
    },
  };
  let id = 0;
  const emit = (name: string, payload: unknown) => {
    for (const listener of listeners.get(name) ?? []) {
      listener({ id: id++, type: name, timestamp: Date.now(), payload });
    }
  };
  const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  return { client: client as unknown as T, emit, count };
}

function metrics(): { registry: Registry; metrics: Metrics } {
  const registry = new Registry();
  return { registry, metrics: createMetrics(registry, { defaultMetrics: false }) };
}

/** The value of one series; `series` names a histogram's _count or _sum. */
async function seriesValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
  series = name,
): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as {
    value: number;
    labels: Record<string, unknown>;
    metricName?: string;
  }[];
  const found = values.find(
    (v) => (v.metricName ?? name) === series && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return found?.value;
}

function request(apiName: unknown, duration: unknown) {
  return {
    apiName,
    apiKey: 0,
    apiVersion: 7,
    broker: 'b:9092',
    clientId: 'c',
    correlationId: 1,
    duration,
    size: 10,
  };
}

describe('kafkajs instrumentation', () => {
  test('real kafkajs consumer, producer and admin accept the subscriptions and the unsubscribes', () => {
    const { metrics: m } = metrics();
    const offs = [
      instrumentConsumer(kafka.consumer({ groupId: 'g' }), m, 'consumer'),
      instrumentProducer(kafka.producer(), m, 'producer'),
      instrumentAdmin(kafka.admin(), m, 'admin'),
    ];
    for (const off of offs) {
      assert.equal(typeof off, 'function');
      off();
      off();
    }
  });

  test('consumer requests count per client and API, with their duration', async () => {
    const { registry, metrics: m } = metrics();
    const { client, emit } = standIn(kafka.consumer({ groupId: 'g' }));
    instrumentConsumer(client, m, 'input');
    emit(client.events.REQUEST, request('Fetch', 120));
    emit(client.events.REQUEST, request('Fetch', 80));
    emit(client.events.REQUEST, request('Heartbeat', 3));
    assert.equal(
      await seriesValue(registry, 'phigate_kafka_requests_total', { client: 'input', api: 'Fetch' }),
      2,
    );
    assert.equal(
      await seriesValue(registry, 'phigate_kafka_requests_total', { client: 'input', api: 'Heartbeat' }),
      1,
    );
    const histogram = 'phigate_kafka_request_duration_seconds';
    const input = { client: 'input' };
    assert.equal(await seriesValue(registry, histogram, input, `${histogram}_count`), 3);
    const sum = await seriesValue(registry, histogram, input, `${histogram}_sum`);
    assert.ok(Math.abs((sum ?? 0) - 0.203) < 1e-9, 'milliseconds are recorded as seconds');
  });

  test('group events: join, rebalancing, crash, stop', async () => {
    const { registry, metrics: m } = metrics();
    const { client, emit } = standIn(kafka.consumer({ groupId: 'g' }));
    instrumentConsumer(client, m, 'input');
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, HEARTBEAT } = client.events;
    emit(GROUP_JOIN, { groupId: 'g', memberId: 'm', leaderId: 'm', isLeader: true, memberAssignment: {} });
    emit(GROUP_JOIN, { groupId: 'g' });
    emit(REBALANCING, { groupId: 'g', memberId: 'm' });
    emit(CRASH, { error: new Error('x'), groupId: 'g', restart: true });
    emit(STOP, null);
    emit(HEARTBEAT, { groupId: 'g' }); // not instrumented
    const rebalances = (event: string) => seriesValue(registry, 'phigate_rebalances_total', { event });
    assert.equal(await rebalances('join'), 2);
    assert.equal(await rebalances('rebalancing'), 1);
    assert.equal(await rebalances('crash'), 1);
    assert.equal(await rebalances('stop'), 1);
  });

  test('label values come only from the client name and API names; odd payloads do not throw', async () => {
    const { registry, metrics: m } = metrics();
    const { client, emit } = standIn(kafka.producer());
    instrumentProducer(client, m, 'output');
    emit(client.events.REQUEST, request('Produce', 5));
    emit(client.events.REQUEST, request('jane.doe@example.com', 5));
    emit(client.events.REQUEST, request(42, Number.NaN));
    emit(client.events.REQUEST, undefined);
    assert.equal(
      await seriesValue(registry, 'phigate_kafka_requests_total', { client: 'output', api: 'Produce' }),
      1,
    );
    assert.equal(
      await seriesValue(registry, 'phigate_kafka_requests_total', { client: 'output', api: 'unknown' }),
      3,
    );
    assert.doesNotMatch(await registry.metrics(), /example\.com/);
  });

  test('unsubscribing removes every listener, once', async () => {
    const { registry, metrics: m } = metrics();
    const consumer = standIn(kafka.consumer({ groupId: 'g' }));
    const producer = standIn(kafka.producer());
    const offConsumer = instrumentConsumer(consumer.client, m, 'input');
    const offProducer = instrumentProducer(producer.client, m, 'output');
    assert.equal(consumer.count(), 5);
    assert.equal(producer.count(), 1);
    offConsumer();
    offProducer();
    offConsumer();
    assert.equal(consumer.count(), 0);
    assert.equal(producer.count(), 0);
    producer.emit(producer.client.events.REQUEST, request('Produce', 1));
    assert.equal(
      await seriesValue(registry, 'phigate_kafka_requests_total', { client: 'output', api: 'Produce' }),
      undefined,
    );
  });
});
