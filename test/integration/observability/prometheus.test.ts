/**
 * The alert rules and the Grafana dashboard, run by a real Prometheus (the `prometheus` binary of
 * Debian's package, which deploy/check.sh installs) scraping a real `phi-gate run` on the real
 * stack. The test makes every event a panel shows happen — delivered, filtered, failed closed,
 * dead-lettered, a rejected policy reload, a registry outage (a pause) — and then asks Prometheus's
 * HTTP API for each panel's and each variable's query: every one must return a finite sample.
 * The rules are loaded too, and every rule must evaluate without an error.
 *
 * The registry outage goes through a pass-through HTTP proxy in front of the real registry that
 * answers 503 while it is "down": the real registry keeps running (it may be shared).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { ENGINES } from '../../../src/kafka/index.ts';
import {
  EventProducer,
  type Keys,
  makeKeys,
  pipelineTopics,
  policyYaml,
  SEGMENT_SCHEMA,
  segmentEvent,
} from '../../helpers/pipeline.ts';
import { freePort, Service } from '../../helpers/service.ts';
import { REGISTRY_URL, registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';
import { ruleGroupsYaml } from '../../unit/deploy/helpers/print-rule-groups.ts';
import { dashboardQueries, type Query } from '../../unit/deploy/helpers/queries.ts';

const NAMESPACE = 'phi-it';
const BROKEN_POLICIES = ['version: 1\ndestinations: [not a map\n', 'version: 99\ndestinations: {}\n'];
const POD = 'phi-gate-0';

/** Grafana's dashboard variables as a user with "All" selected sees them. */
function withDashboardVariables(expr: string): string {
  return expr.replaceAll('$namespace', NAMESPACE).replaceAll('$pod', '.*').replaceAll('$destination', '.*');
}

/** A registry in front of the real one that can be switched to answering 503. */
class FlakyRegistry {
  down = false;
  readonly #server: Server;
  port = 0;

  constructor(target: string) {
    const base = new URL(target);
    this.#server = createServer(async (req, res) => {
      if (this.down) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error_code":503}');
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      try {
        const upstream = await fetch(`${base.origin}${req.url}`, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      } catch {
        res.writeHead(502).end();
      }
    });
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as { port: number }).port;
    const base = new URL(REGISTRY_URL);
    return `http://127.0.0.1:${this.port}${base.pathname}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
  }
}

class Prometheus {
  readonly url: string;
  readonly #child: ChildProcess;
  output = '';

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
    child.stdout?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
  }

  static async start(dir: string, target: string): Promise<Prometheus> {
    const port = await freePort();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'rules.yaml'), ruleGroupsYaml());
    await writeFile(
      join(dir, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yaml')],
        scrape_configs: [
          {
            job_name: 'phi-gate',
            static_configs: [{ targets: [target], labels: { namespace: NAMESPACE, pod: POD } }],
          },
        ],
      }),
    );
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const spawned = await Promise.race([
      once(child, 'spawn').then(() => null),
      once(child, 'error').then(([e]) => e as Error),
    ]);
    if (spawned) {
      throw new Error(
        `cannot run prometheus (${spawned.message}): bash deploy/check.sh installs it (Debian package prometheus)`,
      );
    }
    const prometheus = new Prometheus(child, `http://127.0.0.1:${port}`);
    await Service.until(
      async () => (await fetch(`${prometheus.url}/-/ready`).catch(() => undefined))?.status === 200,
      30_000,
      'prometheus ready',
    );
    // Prometheus applies discovered targets every 5 s: wait for the first scrape, so that what the
    // test does next shows as increases, not as the first value of a series
    await Service.until(
      async () => (await prometheus.finiteSamples('up{job="phi-gate"} == 1').catch(() => 0)) > 0,
      30_000,
      'phi-gate scraped once',
    );
    return prometheus;
  }

  async api(path: string, params: Record<string, string> = {}): Promise<any> {
    const res = await fetch(`${this.url}/api/v1/${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: any; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  }

  /** The query's samples at this moment, with NaN and ±Inf (and, unless zeroIsData, 0) left out. */
  async finiteSamples(expr: string, zeroIsData = true): Promise<number> {
    const data = await this.api('query', { query: expr });
    const results = (data.result ?? []) as { value: [number, string] }[];
    return results.filter((r) => {
      const v = Number(r.value[1]);
      return Number.isFinite(v) && (zeroIsData || v !== 0);
    }).length;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.kill('SIGTERM');
    await once(this.#child, 'exit');
  }
}

describe('observability: a real Prometheus evaluates the alert rules and every dashboard query', () => {
  const topics = new TestTopics();
  let keys: Keys;
  let dir: string;

  before(async () => {
    await requireStack();
    keys = await makeKeys();
    dir = await mkdtemp(join(tmpdir(), 'phigate-prometheus-'));
  });
  after(async () => {
    await topics.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  for (const engine of ENGINES) {
    test(`${engine}: every panel and variable query returns data, every rule evaluates`, async () => {
      const names = await pipelineTopics(topics, `prometheus-${engine}`);
      // rsa-oaep-256 fails closed on a value longer than one RSA block: the failed-closed panels
      const policy = policyYaml(keys, names).replace('scheme: jwe', 'scheme: rsa-oaep-256');
      const policyFile = join(keys.dir, `policy-${engine}.yaml`);
      await writePolicyFile(policyFile, policy);
      const flaky = new FlakyRegistry(REGISTRY_URL);
      const registryUrl = await flaky.start();
      const producer = new EventProducer(names.input);
      await producer.connect();
      const groupId = uniqueName(`prometheus-${engine}-group`);
      const env = {
        PHIGATE_KAFKA_ENGINE: engine,
        SCHEMA_REGISTRY_URL: registryUrl,
        PHIGATE_RETRY_INITIAL_MS: '300',
      };
      const service = await Service.start({ ...names, groupId, policyFile, env });
      let prometheus: Prometheus | undefined;
      let second: Service | undefined;
      try {
        await service.waitReady();
        prometheus = await Prometheus.start(join(dir, engine), `127.0.0.1:${service.port}`);
        const scraped = () => new Promise((r) => setTimeout(r, 2500));
        const counter = (name: string, labels: Record<string, string> = {}) => service.counter(name, labels);
        const atLeast = (name: string, labels: Record<string, string>, n: number) =>
          Service.until(
            async () => (await counter(name, labels)) >= n,
            45_000,
            `${name} ${JSON.stringify(labels)} >= ${n}`,
          );

        // Twice, a scrape apart: a labelled counter's series is born at its first increment, which
        // rate() and increase() cannot see (no earlier sample); the second one they see.
        for (const round of [1, 2]) {
          await producer.send([
            ...Array.from({ length: 10 }, (_, i) => segmentEvent('booked', i)),
            ...Array.from({ length: 3 }, (_, i) => segmentEvent('rx', i)),
            ...Array.from({ length: 3 }, (_, i) => segmentEvent('search', i)),
            // failed closed: a note too long for one RSA-OAEP block (made-up text)
            ...Array.from({ length: 3 }, (_, i) => ({
              ...segmentEvent('booked', 100 + i),
              properties: {
                specialty: 'dermatology',
                notes: 'the made-up patient asked a long question '.repeat(12),
              },
            })),
          ]);
          // dead-lettered: not Confluent wire format
          await producer.sendRaw([{ key: 'not-avro', value: Buffer.from('plainly not avro') }]);
          await atLeast('phigate_dlq_records_total', {}, round);
          await atLeast('phigate_destination_events_total', { outcome: 'failed_closed' }, 3 * round);
          // a rejected policy reload (a different problem each round: a repeated one is counted
          // once), then the good policy again
          await writePolicyFile(policyFile, BROKEN_POLICIES[round - 1] ?? '');
          await atLeast('phigate_policy_reloads_total', { outcome: 'rejected' }, round);
          await writePolicyFile(policyFile, policy);
          await scraped();
        }

        // a registry outage: records under a writer schema phi-gate has not fetched yet pause the
        // batch; it lasts until a pause after a scrape
        const schema = JSON.parse(await readFile(SEGMENT_SCHEMA, 'utf8'));
        schema.fields.push({ name: 'prometheusTestField', type: ['null', 'string'], default: null });
        const { id: newId } = await registry().register(
          { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
          { subject: `${names.input}-value` },
        );
        flaky.down = true;
        await producer.useSchema(JSON.stringify(schema));
        assert.equal(producer.schemaId, newId);
        await producer.send(Array.from({ length: 5 }, (_, i) => segmentEvent('booked', 200 + i)));
        await atLeast('phigate_pauses_total', { reason: 'registry' }, 1);
        await scraped();
        const paused = await counter('phigate_pauses_total', { reason: 'registry' });
        await atLeast('phigate_pauses_total', { reason: 'registry' }, paused + 1);
        flaky.down = false;

        // a second member joins and leaves: rebalances after the first scrape
        second = await Service.start({
          ...names,
          groupId,
          policyFile,
          env: { ...env, SCHEMA_REGISTRY_URL: REGISTRY_URL },
        });
        await second.waitReady();
        await producer.send(Array.from({ length: 10 }, (_, i) => segmentEvent('booked', 300 + i)));
        await second.stop();
        // the lag gauge of a partition is set by its batches: after the rebalance, send some more
        // so that each partition the first member took back reports its lag again
        const before = await counter('phigate_events_consumed_total');
        await producer.send(Array.from({ length: 10 }, (_, i) => segmentEvent('booked', 400 + i)));
        await Service.until(
          async () => (await counter('phigate_events_consumed_total')) >= before + 10,
          45_000,
          'the first member consumes again after the second left',
        );
        await scraped();

        const p = prometheus;
        const queries: Query[] = dashboardQueries().map((q) => ({
          where: q.where,
          expr: withDashboardVariables(q.expr),
        }));
        assert.ok(queries.length >= 30, `the dashboard has its queries (${queries.length})`);
        // every panel on both engines: on librdkafka the request panels read librdkafka's
        // statistics (src/kafka/rdkafka/stats.ts), which it reports every 10 s
        let empty: Query[] = queries;
        const deadline = Date.now() + 30_000;
        while (empty.length > 0 && Date.now() < deadline) {
          // a rate of 0 would be a panel that shows nothing happening: every query needs a non-zero
          // sample, except consumer lag, which is 0 once phi-gate has caught up
          const counts = await Promise.all(
            empty.map((q) => p.finiteSamples(q.expr, /Consumer lag/.test(q.where))),
          );
          empty = empty.filter((_, i) => counts[i] === 0);
          if (empty.length > 0) await new Promise((r) => setTimeout(r, 1000));
        }
        assert.deepEqual(
          empty.map((q) => `${q.where}: ${q.expr}`),
          [],
          'dashboard queries with no data from a real Prometheus',
        );

        const rules = await prometheus.api('rules');
        const evaluated = (
          rules.groups as { rules: { name: string; health: string; lastError?: string }[] }[]
        )
          .flatMap((g) => g.rules)
          .filter((r) => r.health !== 'unknown');
        assert.ok(evaluated.length >= 12, `the rules are loaded and evaluated (${evaluated.length})`);
        assert.deepEqual(
          evaluated.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
          [],
          'rules that fail to evaluate',
        );
      } finally {
        await prometheus?.stop();
        await second?.stop();
        await service.stop();
        await producer.disconnect();
        await flaky.stop();
      }
      assert.doesNotMatch(service.output, /made-up patient asked/, 'no payload value in the logs');
    });
  }
});

async function writePolicyFile(file: string, text: string): Promise<void> {
  // write-then-rename, as a ConfigMap update swaps the file: the watcher never reads half a file
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}
