/**
 * The kafkajs instrumentation against a real broker: the events kafkajs really emits (requests,
 * group join, stop) move the phigate_* counters, and unsubscribing stops them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { instrumentConsumer, instrumentProducer } from '../../../src/kafka/kafkajs/instrument.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { kafka, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

async function series(registry: Registry, name: string, labels: Record<string, string>, metricName = name) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as {
    value: number;
    labels: Record<string, unknown>;
    metricName?: string;
  }[];
  return values.find(
    (v) =>
      (v.metricName ?? name) === metricName && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('kafkajs instrumentation on a real broker', () => {
  const topics = new TestTopics();
  before(requireStack);
  after(() => topics.cleanup());

  test('producer and consumer requests, group join and stop are counted; unsubscribe stops counting', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    const topic = await topics.create('obs-kafka');
    const client = kafka('phi-gate-test-obs');

    const producer = client.producer();
    const offProducer = instrumentProducer(producer, metrics, 'output');
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'one' }] });
    const produced = await series(registry, 'phigate_kafka_requests_total', {
      client: 'output',
      api: 'Produce',
    });
    assert.ok((produced ?? 0) >= 1, 'Produce requests are counted');
    assert.ok(
      ((await series(registry, 'phigate_kafka_requests_total', { client: 'output', api: 'Metadata' })) ??
        0) >= 1,
    );
    const durations = await series(
      registry,
      'phigate_kafka_request_duration_seconds',
      { client: 'output' },
      'phigate_kafka_request_duration_seconds_count',
    );
    assert.ok((durations ?? 0) >= 2, 'request durations are observed');

    const consumer = client.consumer({ groupId: uniqueName('obs-group'), maxWaitTimeInMs: 100 });
    const offConsumer = instrumentConsumer(consumer, metrics, 'input');
    let received = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async () => {
          received++;
        },
      });
      await until(() => received >= 1, 30_000, 'the consumer to receive the record');
    } finally {
      await consumer.disconnect();
    }
    const rebalances = (event: string) => series(registry, 'phigate_rebalances_total', { event });
    assert.ok(((await rebalances('join')) ?? 0) >= 1, 'the group join is counted');
    assert.ok(((await rebalances('stop')) ?? 0) >= 1, 'the stop is counted');
    for (const api of ['JoinGroup', 'SyncGroup', 'Fetch']) {
      const n = await series(registry, 'phigate_kafka_requests_total', { client: 'input', api });
      assert.ok((n ?? 0) >= 1, `${api} requests are counted`);
    }

    offProducer();
    offConsumer();
    const before = await series(registry, 'phigate_kafka_requests_total', {
      client: 'output',
      api: 'Produce',
    });
    await producer.send({ topic, messages: [{ value: 'two' }] });
    await producer.disconnect();
    assert.equal(
      await series(registry, 'phigate_kafka_requests_total', { client: 'output', api: 'Produce' }),
      before,
      'no counting after unsubscribe',
    );
  });
});
