/**
 * librdkafka's statistics documents → metrics. The fixture is a document librdkafka 2.15 wrote
 * (a transactional producer against the local broker, statistics.interval.ms 1000: the broker's
 * connection and the transaction coordinator's); the other documents are that one changed. test/integration/observability/prometheus.test.ts sees the
 * metrics of a running phi-gate through Prometheus.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { type Statistics, StatisticsBridge } from '../../../../src/kafka/rdkafka/stats.ts';
import { createMetrics } from '../../../../src/observability/metrics.ts';

const FIXTURE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'fixtures',
  'librdkafka',
  'producer-statistics.json',
);

interface Broker {
  nodeid: number;
  source: string;
  req: Record<string, number>;
  rtt: { cnt: number; p50: number; p99: number };
}

function realDocument(): { brokers: Record<string, Broker> } {
  return JSON.parse(readFileSync(FIXTURE, 'utf8'));
}

function bridge() {
  const registry = new Registry();
  const metrics = createMetrics(registry, { defaultMetrics: false });
  const values = async (name: string) =>
    ((await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? []) as {
      value: number;
      labels: Record<string, string | number>;
    }[];
  const requests = async (api: string) =>
    (await values('phigate_kafka_requests_total')).find(
      (v) => v.labels.client === 'producer' && v.labels.api === api,
    )?.value;
  const rtt = async (quantile: string) =>
    (await values('phigate_kafka_rtt_seconds')).find(
      (v) => v.labels.client === 'producer' && v.labels.quantile === quantile,
    )?.value;
  return { bridge: new StatisticsBridge(metrics, 'producer'), requests, rtt, values };
}

describe('librdkafka statistics → metrics', () => {
  test('a real document: requests by API over every connection, the round-trip time in seconds', async () => {
    const doc = realDocument();
    const broker = doc.brokers['127.0.0.1:9092/1'] as Broker;
    const coordinator = doc.brokers.TxnCoordinator as Broker;
    assert.equal(coordinator.source, 'logical', 'the coordinator handle of the fixture');
    const { bridge: b, requests, rtt, values } = bridge();
    b.record(doc as Statistics);
    assert.equal(await requests('Produce'), broker.req.Produce);
    // the coordinator's own connection: a transaction's registration and its end
    assert.equal(await requests('AddPartitionsToTxn'), coordinator.req.AddPartitionsToTxn);
    assert.equal(await requests('EndTxn'), coordinator.req.EndTxn);
    assert.equal(await requests('InitProducerId'), 1);
    // both connections asked for metadata
    assert.equal(await requests('Metadata'), (broker.req.Metadata ?? 0) + (coordinator.req.Metadata ?? 0));
    // APIs this client never called are not series
    assert.equal(await requests('Fetch'), undefined);
    // the slowest connection's quantiles
    assert.equal(await rtt('0.5'), Math.max(broker.rtt.p50, coordinator.rtt.p50) / 1e6);
    assert.equal(await rtt('0.99'), Math.max(broker.rtt.p99, coordinator.rtt.p99) / 1e6);
    assert.ok(((await rtt('0.99')) ?? 0) < 1, 'microseconds are recorded as seconds');
    assert.ok((await values('phigate_kafka_requests_total')).every((v) => v.labels.client === 'producer'));
  });

  test('cumulative counts are added as they grow; a re-created connection counts again from zero', async () => {
    const doc = realDocument();
    const broker = doc.brokers['127.0.0.1:9092/1'] as Broker;
    const first = broker.req.Produce as number;
    const { bridge: b, requests } = bridge();
    b.record(doc as Statistics);
    b.record(doc as Statistics); // the same counts again: nothing added
    assert.equal(await requests('Produce'), first);
    broker.req.Produce = first + 40;
    b.record(doc as Statistics);
    assert.equal(await requests('Produce'), first + 40);
    broker.req.Produce = 5; // librdkafka replaced the connection's handle
    b.record(doc as Statistics);
    assert.equal(await requests('Produce'), first + 45);
  });

  test('connections are counted apart, each with its own running count', async () => {
    const doc = realDocument();
    const broker = doc.brokers['127.0.0.1:9092/1'] as Broker;
    doc.brokers['127.0.0.1:9093/2'] = {
      ...broker,
      nodeid: 2,
      req: { Produce: 7 },
      rtt: { cnt: 3, p50: 900, p99: 50_000 },
    };
    const { bridge: b, requests, rtt } = bridge();
    b.record(doc as Statistics);
    assert.equal(await requests('Produce'), (broker.req.Produce as number) + 7);
    (doc.brokers['127.0.0.1:9093/2'] as Broker).req.Produce = 9;
    b.record(doc as Statistics);
    assert.equal(await requests('Produce'), (broker.req.Produce as number) + 9);
    // the slowest connection's quantiles
    assert.equal(await rtt('0.99'), 0.05);
    const answered = Object.values(doc.brokers).filter((h) => h.rtt.cnt > 0);
    assert.equal(await rtt('0.5'), Math.max(...answered.map((h) => h.rtt.p50)) / 1e6);
  });

  test('no request answered in the interval: no round-trip time rather than a stale one', async () => {
    const doc = realDocument();
    const { bridge: b, rtt } = bridge();
    b.record(doc as Statistics);
    assert.notEqual(await rtt('0.99'), undefined);
    for (const handle of Object.values(doc.brokers)) handle.rtt = { cnt: 0, p50: 0, p99: 0 };
    b.record(doc as Statistics);
    assert.equal(await rtt('0.99'), undefined);
    assert.equal(await rtt('0.5'), undefined);
  });

  test("an API name outside the protocol's spelling is labelled unknown; odd documents are harmless", async () => {
    const { bridge: b, requests, values } = bridge();
    b.record({ brokers: { 'b/1': { req: { 'Produce"}': 2, Fetch: Number.NaN } } } });
    assert.equal(await requests('unknown'), 2);
    b.record({});
    b.record({ brokers: { 'b/2': {} } });
    assert.equal((await values('phigate_kafka_requests_total')).length, 1);
  });
});
