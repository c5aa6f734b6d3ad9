/**
 * `npm run bench`: the pipeline against the real local broker and registry.
 *
 *   broker              Kafka's own producer/consumer performance tools, same record size
 *   passthrough         kafkajs consume → produce to three topics in transactions, no decoding, no policy
 *   passthroughRdkafka  the same through phi-gate's librdkafka engine (bench/passthrough-rdkafka.ts)
 *   phigate             `phi-gate run` with the example policy (three destinations), exactly once,
 *                       on the default engine (librdkafka)
 *   phigateKafkajs      the same on the kafkajs engine
 *   phigateEncrypt      phigate with every PHI field of the warehouse encrypted (bench/policy-encrypt.yaml)
 *   reader              the latency instrument alone: its producer and reader on one topic, no
 *                       process between them, at the rate phigate's latency phase was offered
 *   backlog             phigate working through a large backlog: RSS
 *
 * Throughput: the input topic is filled first, then the process under test works through it; the
 * window runs from its first committed transaction to the last (start-up is left out). Latency: then,
 * at `--load` × that maximum, a rate-limited producer stamps `timestamp` at send time and a
 * read_committed reader of a destination topic takes receive time − timestamp. Over that phase the
 * cores' load is read too (lib/box.ts): their busy share, and each local process's CPU and its wait
 * for a core.
 *
 *   node bench/pipeline.bench.ts [--events 200000] [--backlog 1000000] [--json FILE]
 *     [--scenarios broker,passthrough,passthroughRdkafka,phigate,reader,phigateKafkajs,phigateEncrypt,backlog]
 *     [--partitions 3]
 *     [--load 0.5 | --rate N] [--latency-seconds 20] [--batch-max-records N] [--batch-max-ms N] [--commit-interval-ms N]
 *     [--partitions-concurrency N] [--compression none|gzip|zstd] [--keep]
 *
 * Each run uses its own topics, groups and subjects (prefix bench-<run>) and deletes them after.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import YAML from 'yaml';
import { ENV_VARS, OUTPUT_COMPRESSIONS, type OutputCompression } from '../src/config/schema.ts';
import { registerCodecs } from '../src/kafka/kafkajs/compression.ts';
import { createTopics } from '../src/kafka/topics.ts';
import { type BoxLoad, BoxProbe, describeBox, localBrokerPids } from './lib/box.ts';
import { consumerPerf, producerPerf } from './lib/broker.ts';
import { deployedRuntime } from './lib/deployed.ts';
import { EventFactory, meanEventBytes, root, schemaText } from './lib/events.ts';
import { type Buckets, bucketsOf, shareWithin, since, upperBound } from './lib/histogram.ts';
import { committed, endOffsets, fill, follow, type Latency, latency } from './lib/kafka.ts';
import { type Measurable, Measured, Members } from './lib/proc.ts';

const SCENARIOS = [
  'broker',
  'passthrough',
  'passthroughRdkafka',
  'phigate',
  'reader',
  'phigateKafkajs',
  'phigateEncrypt',
  'backlog',
] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    backlog: { type: 'string', default: '1000000' },
    json: { type: 'string' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    partitions: { type: 'string', default: '3' },
    load: { type: 'string', default: '0.5' },
    // a fixed offered rate (events/s) for the latency phase instead of --load × the measured maximum:
    // two builds compared at --load are offered different rates whenever their maxima differ
    rate: { type: 'string' },
    'latency-seconds': { type: 'string', default: '20' },
    'batch-max-records': { type: 'string', default: String(ENV_VARS.PHIGATE_BATCH_MAX_RECORDS.default) },
    'batch-max-ms': { type: 'string', default: String(ENV_VARS.PHIGATE_BATCH_MAX_MS.default) },
    'commit-interval-ms': { type: 'string', default: String(ENV_VARS.PHIGATE_COMMIT_INTERVAL_MS.default) },
    'partitions-concurrency': {
      type: 'string',
      default: String(ENV_VARS.PHIGATE_PARTITIONS_CONCURRENCY.default),
    },
    compression: { type: 'string', default: ENV_VARS.PHIGATE_COMPRESSION.default },
    keep: { type: 'boolean', default: false },
    instances: { type: 'string', default: '1' },
  },
});

const options = {
  events: Number(args.events),
  backlogEvents: Number(args.backlog),
  partitions: Number(args.partitions),
  load: Number(args.load),
  rate: args.rate === undefined ? undefined : Number(args.rate),
  latencySeconds: Number(args['latency-seconds']),
  batchMaxRecords: Number(args['batch-max-records']),
  batchMaxMs: Number(args['batch-max-ms']),
  commitIntervalMs: Number(args['commit-interval-ms']),
  partitionsConcurrency: Number(args['partitions-concurrency']),
  compression: args.compression as OutputCompression,
  /** phi-gate members in the scenario's consumer group, each a process of its own. */
  instances: Number(args.instances),
};
if (!Number.isInteger(options.instances) || options.instances < 1)
  throw new Error('--instances: a positive integer');
if (options.rate !== undefined && !(Number.isInteger(options.rate) && options.rate > 0))
  throw new Error('--rate: a positive integer (events/s)');
if (!OUTPUT_COMPRESSIONS.includes(options.compression))
  throw new Error(`--compression: one of ${OUTPUT_COMPRESSIONS.join(', ')}`);
registerCodecs(); // the latency reader reads what phi-gate and the pass-through compress
const scenarios = (args.scenarios ?? '').split(',').filter(Boolean) as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const run = `bench-${Date.now().toString(36)}`;
const kafka = new Kafka({
  clientId: 'phi-gate-bench',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
const registry = new SchemaRegistry({ host: registryUrl });
const recordBytes = meanEventBytes();

interface Result {
  eventsPerSec: number | null;
  recordsOutPerSec: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  peakRssMb: number | null;
  cpuSecPerKEvents: number | null;
  events: number;
  notes: string;
  /** The cores' load during the latency phase (box.ts), where it was read. */
  box?: BoxLoad | null;
  /** phi-gate's own part of the latency phase's latency, from its metrics (phi-gate scenarios). */
  ownLatency?: OwnLatency | null;
}

/** A box reading for the JSON: shares in whole per cent, cores to two places. */
const roundedBox = (box: BoxLoad) => ({
  busyPct: round(box.busyPct),
  stealPct: round(box.stealPct, 1),
  cores: box.cores,
  seconds: round(box.seconds, 1),
  processes: box.processes.map((p) => ({
    name: p.name,
    cpuCores: round(p.cpuCores, 2),
    waitCores: round(p.waitCores, 2),
    jsWaitPct: round(p.jsWaitPct),
  })),
});

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const round = (x: number | null, digits = 0) =>
  x === null || Number.isNaN(x) ? null : Number(x.toFixed(digits));

async function createTopic(
  topic: string,
  configEntries: { name: string; value: string }[] = [],
): Promise<void> {
  await createTopics(admin, [
    { topic, numPartitions: options.partitions, replicationFactor: 1, configEntries },
  ]);
}

/**
 * phi-gate runs as shipped (bench/lib/deployed.ts): the image's node flags and the deployment's
 * NODE_OPTIONS and MALLOC_ARENA_MAX, not Node's defaults. BENCH_NODE_FLAGS replaces the image's
 * flags (empty: none) and BENCH_NODE_OPTIONS is appended to NODE_OPTIONS, for before/after runs.
 */
const DEPLOYED = deployedRuntime(root);
const NODE_FLAGS =
  process.env.BENCH_NODE_FLAGS === undefined
    ? DEPLOYED.nodeFlags
    : process.env.BENCH_NODE_FLAGS.split(' ').filter((f) => f.length > 0);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** An input topic with the Segment schema registered under its subject, filled with `n` events. */
async function input(name: string, n: number): Promise<{ topic: string; factory: EventFactory }> {
  const topic = `${run}.${name}.raw`;
  // each record's timestamp is when the broker appended it: phi-gate's own latency (its end-to-end
  // histogram) then starts there, without the instrument's producer; the reader's starts at the send
  await createTopic(topic, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: schemaText },
    { subject: `${topic}-value` },
  );
  const factory = new EventFactory(id, `${run}-${name}`);
  const started = Date.now();
  await fill(kafka, topic, factory, 0, n);
  log(`${topic}: ${n} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { topic, factory };
}

/** The example policy (or a bench policy) with this run's topic names and absolute key paths. */
async function policyFile(
  source: string,
  name: string,
  dir: string,
): Promise<{ file: string; topics: Record<string, string> }> {
  const doc = YAML.parse(await readFile(source, 'utf8'));
  const base = dirname(source);
  const absolute = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'file' && typeof v === 'string') (node as Record<string, unknown>)[k] = resolve(base, v);
      else absolute(v);
    }
  };
  absolute(doc);
  const topics: Record<string, string> = {};
  for (const [dest, d] of Object.entries(doc.destinations as Record<string, Record<string, unknown>>)) {
    d.topic = `${run}.${name}.dest.${dest}`;
    topics[dest] = d.topic as string;
  }
  const file = join(dir, `${name}.policy.yaml`);
  await writeFile(file, YAML.stringify(doc));
  return { file, topics };
}

async function broker(): Promise<Result> {
  const topic = `${run}.broker`;
  await createTopic(topic);
  const n = options.events;
  const max = await producerPerf(brokers, topic, n, recordBytes, -1);
  const consumed = await consumerPerf(brokers, topic, n);
  const rate = latencyRate(max.recordsPerSec);
  const lat = await producerPerf(brokers, topic, rate * options.latencySeconds, recordBytes, rate);
  return {
    eventsPerSec: max.recordsPerSec,
    recordsOutPerSec: consumed.recordsPerSec,
    p50Ms: lat.p50Ms,
    p95Ms: lat.p95Ms,
    p99Ms: lat.p99Ms,
    peakRssMb: Math.max(max.peakRssMb, consumed.peakRssMb),
    cpuSecPerKEvents: (max.cpuSec + consumed.cpuSec) / (n / 1000),
    events: n,
    notes: `${recordBytes} B records; in = ProducerPerformance acks=all, out = ConsumerPerformance fetch rate; latency = producer ack latency at ${rate}/s; RSS/CPU of the JVMs incl. start-up`,
  };
}

/**
 * What the latency instrument adds by itself: the latency phase's producer and read_committed
 * reader on one topic with nothing between them, at the rate phigate's latency phase was offered
 * (--rate, or 10,000/s when phigate did not run). Every other scenario's latency includes it.
 */
async function readerFloor(phigateEventsPerSec: number | null): Promise<Result> {
  const { topic, factory } = await input('reader', 0);
  const rate = phigateEventsPerSec === null ? (options.rate ?? 10_000) : latencyRate(phigateEventsPerSec);
  const lat = await latencyPhase('reader', topic, topic, factory, 0, rate, () => []);
  return {
    eventsPerSec: null,
    recordsOutPerSec: null,
    p50Ms: lat.p50Ms,
    p95Ms: lat.p95Ms,
    p99Ms: lat.p99Ms,
    peakRssMb: null,
    // the bench process's own CPU: the instrument's producer and reader
    cpuSecPerKEvents: lat.instrumentCpuMsPerEvent,
    events: lat.sent,
    notes: `the latency instrument alone at ${rate}/s: producer → one topic → reader, no process between; CPU is the bench process's own`,
    box: lat.box,
  };
}

interface Process {
  readonly proc: Measurable;
  readonly groupId: string;
  /** Output records per input event, known once the run is over. */
  outPerEvent(events: number): Promise<number>;
  /** Where the time went so far, if the process tells (cumulative: subtract an earlier snapshot). */
  diagnostics?(): Promise<Diagnostics>;
}

/** Cumulative batch and transaction figures from phi-gate's own metrics. */
interface Diagnostics {
  readonly batches: number;
  readonly records: number;
  readonly batchSec: number;
  readonly commits: number;
  readonly commitSec: number;
  /** Committed transactions by duration bucket: upper bound (s) → cumulative count. */
  readonly commitBuckets: Buckets;
  /** Input records by the time from their timestamp to their transaction's commit (phi-gate's own latency). */
  readonly latencyBuckets: Buckets;
  /** Kafka requests of the transactional producers by API: api → cumulative count. */
  readonly producerRequests: ReadonlyMap<string, number>;
}

function describeDiagnostics(now: Diagnostics, before?: Diagnostics): string {
  const d = (f: (x: Diagnostics) => number) => f(now) - (before ? f(before) : 0);
  const batches = d((x) => x.batches);
  const commits = d((x) => x.commits);
  if (batches === 0 || commits === 0) return 'no batches';
  const p99 = upperBound(since(now.commitBuckets, before?.commitBuckets), 0.99);
  const perCommit = [...now.producerRequests]
    .map(([api, n]) => [api, (n - (before?.producerRequests.get(api) ?? 0)) / commits] as const)
    .filter(([, n]) => n >= 0.05)
    .map(([api, n]) => `${api} ${n.toFixed(2)}`)
    .join(', ');
  return `${batches} batches of ${(d((x) => x.records) / batches).toFixed(0)} records in ${commits} transactions, ${((d((x) => x.batchSec) / batches) * 1000).toFixed(1)} ms each, of which transaction ${((d((x) => x.commitSec) / commits) * 1000).toFixed(1)} ms (p99 <= ${p99 * 1000} ms); producer requests per transaction: ${perCommit}`;
}

/** The p99 target of the latency phase (issue 14), a bound of phi-gate's latency buckets. */
const TARGET_P99_S = 0.1;

/** phi-gate's own latency over a phase: each input record's timestamp to its transaction's commit. */
interface OwnLatency {
  /** Bucket bounds (ms) that the p50 and the p99 lie under. */
  readonly p50AtMostMs: number;
  readonly p99AtMostMs: number;
  /** Share of the records committed within the p99 target, in per cent. */
  readonly withinTargetPct: number;
}

/**
 * What phi-gate's `phigate_end_to_end_latency_seconds` saw between two snapshots. Input topics keep
 * the broker's append time as each record's timestamp (`input`), so this starts after the
 * instrument's producer has sent; the instrument's reader sees each record later than it ends: after
 * the broker has written the commit markers and its own fetch has returned.
 */
function ownLatency(now: Diagnostics, before?: Diagnostics): OwnLatency | null {
  const b = since(now.latencyBuckets, before?.latencyBuckets);
  const p99 = upperBound(b, 0.99);
  if (Number.isNaN(p99)) return null;
  return {
    p50AtMostMs: upperBound(b, 0.5) * 1000,
    p99AtMostMs: p99 * 1000,
    withinTargetPct: shareWithin(b, TARGET_P99_S) * 100,
  };
}

async function passthrough(inTopic: string): Promise<Process & { latencyTopic: string }> {
  const outputs = [1, 2, 3].map((i) => `${run}.passthrough.out${i}`);
  for (const t of outputs) await createTopic(t);
  const groupId = `${run}.passthrough`;
  const proc = new Measured('passthrough', process.execPath, [join(root, 'bench', 'passthrough.ts')], {
    ...process.env,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    KAFKA_BROKERS: brokers,
    BENCH_INPUT: inTopic,
    BENCH_OUTPUTS: outputs.join(','),
    BENCH_GROUP: groupId,
    BENCH_BATCH_MAX_RECORDS: String(options.batchMaxRecords),
    BENCH_BATCH_MAX_MS: String(options.batchMaxMs),
    BENCH_PARTITIONS_CONCURRENCY: String(options.partitionsConcurrency),
    BENCH_COMPRESSION: options.compression,
  });
  await proc.waitFor(/joined/);
  return { proc, groupId, latencyTopic: outputs[0] as string, outPerEvent: async () => outputs.length };
}

async function passthroughRdkafka(inTopic: string): Promise<Process & { latencyTopic: string }> {
  const outputs = [1, 2, 3].map((i) => `${run}.passthroughRdkafka.out${i}`);
  for (const t of outputs) await createTopic(t);
  const groupId = `${run}.passthroughRdkafka`;
  const proc = new Measured(
    'passthroughRdkafka',
    process.execPath,
    [join(root, 'bench', 'passthrough-rdkafka.ts')],
    {
      ...process.env,
      KAFKA_BROKERS: brokers,
      BENCH_INPUT: inTopic,
      BENCH_OUTPUTS: outputs.join(','),
      BENCH_GROUP: groupId,
      BENCH_POLICY_FILE: join(root, 'deploy', 'examples', 'policy.yaml'),
      BENCH_BATCH_MAX_RECORDS: String(options.batchMaxRecords),
      BENCH_BATCH_MAX_MS: String(options.batchMaxMs),
      BENCH_COMPRESSION: options.compression,
    },
  );
  await proc.waitFor(/joined/);
  return { proc, groupId, latencyTopic: outputs[0] as string, outPerEvent: async () => outputs.length };
}

async function phigate(
  inTopic: string,
  name: string,
  policySource: string,
  dir: string,
  engine: 'librdkafka' | 'kafkajs' = 'librdkafka',
): Promise<Process & { latencyTopic: string }> {
  const { file, topics } = await policyFile(policySource, name, dir);
  const groupId = `${run}.${name}`;
  // BENCH_PHIGATE_MAIN: another checkout's src/main.ts, for before/after comparisons in one run
  const main = process.env.BENCH_PHIGATE_MAIN ?? join(root, 'src', 'main.ts');
  const env = (port: number): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    KAFKA_BROKERS: brokers,
    SCHEMA_REGISTRY_URL: registryUrl,
    PHIGATE_INPUT_TOPIC: inTopic,
    PHIGATE_AUDIT_TOPIC: `${run}.${name}.audit`,
    PHIGATE_DLQ_TOPIC: `${run}.${name}.dlq`,
    PHIGATE_GROUP_ID: groupId,
    PHIGATE_TRANSACTIONAL_ID_PREFIX: groupId,
    PHIGATE_POLICY_FILE: file,
    PHIGATE_METRICS_HOST: '127.0.0.1',
    PHIGATE_METRICS_PORT: String(port),
    PHIGATE_TOPIC_PARTITIONS: String(options.partitions),
    PHIGATE_TOPIC_REPLICATION: '1',
    PHIGATE_BATCH_MAX_RECORDS: String(options.batchMaxRecords),
    PHIGATE_BATCH_MAX_MS: String(options.batchMaxMs),
    PHIGATE_COMMIT_INTERVAL_MS: String(options.commitIntervalMs),
    PHIGATE_PARTITIONS_CONCURRENCY: String(options.partitionsConcurrency),
    PHIGATE_COMPRESSION: options.compression,
    PHIGATE_LOG_LEVEL: 'warn',
    PHIGATE_KAFKA_ENGINE: engine,
    ...DEPLOYED.env,
    ...(process.env.BENCH_NODE_OPTIONS
      ? { NODE_OPTIONS: `${DEPLOYED.env.NODE_OPTIONS ?? ''} ${process.env.BENCH_NODE_OPTIONS}`.trim() }
      : {}),
  });
  const ports: number[] = [];
  const members: Measured[] = [];
  for (let i = 0; i < options.instances; i++) {
    const port = await freePort();
    ports.push(port);
    const member = i === 0 ? name : `${name}-${i + 1}`;
    // one transactional id per member: on one host they would share the host name's
    const environment = { ...env(port), PHIGATE_INSTANCE_ID: member };
    members.push(new Measured(member, process.execPath, [...NODE_FLAGS, main, 'run'], environment));
  }
  const proc = new Members(members);
  const deadline = Date.now() + 60_000;
  for (const [i, member] of members.entries()) {
    for (;;) {
      if (!member.alive) throw new Error(`phi-gate exited:\n${member.output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`phi-gate not ready:\n${member.output.slice(-3000)}`);
      const ok = await fetch(`http://127.0.0.1:${ports[i]}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  /** One read of every member's /metrics: the lines, and the sum of a metric's series (optionally with a label). */
  const scrape = async () => {
    const texts = await Promise.all(
      ports.map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
    );
    const lines = texts.join('\n').split('\n');
    const sum = (name: string, labels = ''): number => {
      let total = 0;
      for (const line of lines)
        if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels))
          total += Number(line.slice(line.lastIndexOf(' ') + 1));
      return total;
    };
    return { lines, sum };
  };
  return {
    proc,
    groupId,
    latencyTopic: topics.warehouse as string,
    diagnostics: async () => {
      const { lines, sum } = await scrape(); // one snapshot: every figure from the same moment
      const producerRequests = new Map<string, number>();
      for (const line of lines) {
        const r = /^phigate_kafka_requests_total\{(?=.*client="producer")(?=.*api="([^"]+)").*\} (\S+)$/.exec(
          line,
        );
        // summed over the members (and over kafkajs's per-partition producers)
        if (r)
          producerRequests.set(r[1] as string, (producerRequests.get(r[1] as string) ?? 0) + Number(r[2]));
      }
      return {
        batches: sum('phigate_batch_duration_seconds_count'),
        records: sum('phigate_batch_size_records_sum'),
        batchSec: sum('phigate_batch_duration_seconds_sum'),
        commits: sum('phigate_transaction_duration_seconds_count', 'outcome="commit"'),
        commitSec: sum('phigate_transaction_duration_seconds_sum', 'outcome="commit"'),
        commitBuckets: bucketsOf(lines, 'phigate_transaction_duration_seconds', 'outcome="commit"'),
        latencyBuckets: bucketsOf(lines, 'phigate_end_to_end_latency_seconds'),
        producerRequests,
      };
    },
    // destination records + one audit entry per (event, destination) decision + dead letters
    outPerEvent: async (events) => {
      const { sum } = await scrape();
      const delivered = sum('phigate_destination_events_total', 'outcome="delivered"');
      const decisions = sum('phigate_destination_events_total');
      const dlq = sum('phigate_dlq_records_total');
      return (delivered + decisions + 2 * dlq) / events;
    },
  };
}

/** Throughput from a filled input, then latency at a fixed load; the process is stopped after. */
async function measure(
  name: string,
  start: (inTopic: string) => Promise<Process & { latencyTopic: string }>,
  n: number,
  withLatency: boolean,
): Promise<Result> {
  const { topic, factory } = await input(name, n);
  const p = await start(topic);
  try {
    const total = await endOffsets(admin, topic);
    const w = await follow(
      admin,
      p.groupId,
      topic,
      total,
      () => p.proc.sample().cpuSec,
      () => p.proc.alive,
      30 * 60_000,
    ).catch((err: Error) => {
      throw p.proc.alive ? err : new Error(`${err.message}: ${p.proc.exitReport}`);
    });
    const events = w.to - w.from;
    const seconds = (w.endedAt - w.startedAt) / 1000;
    const eventsPerSec = events / seconds;
    const outPerEvent = await p.outPerEvent(await committed(admin, p.groupId, topic));
    log(
      `${name}: ${events} events in ${seconds.toFixed(1)} s = ${Math.round(eventsPerSec)}/s, ${outPerEvent.toFixed(2)} records out per event`,
    );
    const afterThroughput = await p.diagnostics?.();
    if (afterThroughput) log(`${name}: ${describeDiagnostics(afterThroughput)}`);
    let lat: Latency | undefined;
    let own: OwnLatency | null = null;
    if (withLatency) {
      let counting: Promise<Diagnostics | undefined> | undefined;
      lat = await latencyPhase(
        name,
        topic,
        p.latencyTopic,
        factory,
        n,
        latencyRate(eventsPerSec),
        () => p.proc.pids(),
        () => {
          counting = p.diagnostics?.().catch(() => undefined);
        },
      );
      const afterLatency = await p.diagnostics?.();
      if (afterLatency) {
        log(`${name}: latency phase: ${describeDiagnostics(afterLatency, afterThroughput)}`);
        own = ownLatency(afterLatency, (await counting) ?? afterThroughput);
        if (own)
          log(
            `${name}: latency phase, phi-gate's own part (input record appended → its transaction committed, from its metrics): p50 <= ${own.p50AtMostMs} ms, p99 <= ${own.p99AtMostMs} ms, ${own.withinTargetPct.toFixed(1)} % within ${TARGET_P99_S * 1000} ms`,
          );
      }
    }
    const peakRssMb = p.proc.sample().peakRssMb;
    return {
      eventsPerSec,
      recordsOutPerSec: eventsPerSec * outPerEvent,
      p50Ms: lat?.p50Ms ?? null,
      p95Ms: lat?.p95Ms ?? null,
      p99Ms: lat?.p99Ms ?? null,
      peakRssMb,
      cpuSecPerKEvents: (w.cpuTo - w.cpuFrom) / (events / 1000),
      events: n,
      notes: lat
        ? `latency at ${latencyRate(eventsPerSec)}/s offered, read from ${p.latencyTopic.slice(run.length + 1)} (${lat.samples} samples)`
        : '',
      box: lat?.box ?? null,
      ownLatency: own,
    };
  } finally {
    await p.proc.stop();
  }
}

/** The latency phase of a scenario: events numbered from `firstIndex` into `inTopic`, read from `outTopic`. */
async function latencyPhase(
  name: string,
  inTopic: string,
  outTopic: string,
  factory: EventFactory,
  firstIndex: number,
  rate: number,
  pids: () => number[],
  onCounting?: () => void,
): Promise<Latency> {
  // the scenario's own processes, the local broker (none when the cluster is elsewhere) and this
  // process, which is the instrument: everything here that competes for the cores
  const box = new BoxProbe(() => ({
    [name]: { pids: pids(), node: true },
    broker: { pids: localBrokerPids(), node: false },
    instrument: { pids: [process.pid], node: true },
  }));
  const lat = await latency({
    kafka,
    registryUrl,
    inTopic,
    outTopic,
    factory,
    prefix: `${run}-${name}`,
    firstIndex,
    rate,
    seconds: options.latencySeconds,
    warmupSeconds: 3,
    box,
    onCounting,
  });
  log(
    `${name}: latency at ${rate}/s: p50 ${lat.p50Ms} p95 ${lat.p95Ms} p99 ${lat.p99Ms} ms (${lat.samples} samples of ${lat.sent} sent); the instrument's CPU ${lat.instrumentCpuMsPerEvent.toFixed(4)} ms/event, ${Math.round((lat.instrumentCpuMsPerEvent * rate) / 10)} % of a core`,
  );
  if (lat.box) log(`${name}: latency phase: ${describeBox(lat.box)}`);
  return lat;
}

/** The latency phase's offered rate: --rate, or --load × the scenario's measured maximum. */
function latencyRate(eventsPerSec: number): number {
  return options.rate ?? Math.max(1, Math.round(eventsPerSec * options.load));
}

async function cleanup(): Promise<void> {
  if (args.keep) return;
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${run}.`));
  if (topics.length > 0)
    await admin.deleteTopics({ topics }).catch((e) => log(`topic cleanup: ${e.message}`));
  const groups = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((g) => g.startsWith(`${run}.`));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  const subjects = ((await (await fetch(`${registryUrl}/subjects`)).json()) as string[]).filter((s) =>
    s.startsWith(`${run}.`),
  );
  for (const s of subjects) {
    await fetch(`${registryUrl}/subjects/${encodeURIComponent(s)}`, { method: 'DELETE' }).catch(
      () => undefined,
    );
    await fetch(`${registryUrl}/subjects/${encodeURIComponent(s)}?permanent=true`, {
      method: 'DELETE',
    }).catch(() => undefined);
  }
}

function table(results: Partial<Record<Scenario, Result>>): string {
  const header = [
    'scenario',
    'events/s in',
    'records/s out',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'peak RSS MB',
    'CPU s/1k ev',
  ];
  const fmt = (x: number | null, d = 0) =>
    x === null || Number.isNaN(x)
      ? '—'
      : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    fmt(r.eventsPerSec),
    fmt(r.recordsOutPerSec),
    fmt(r.p50Ms),
    fmt(r.p95Ms),
    fmt(r.p99Ms),
    fmt(r.peakRssMb),
    fmt(r.cpuSecPerKEvents, 3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  await admin.connect();
  const dir = await mkdtemp(join(tmpdir(), 'phi-gate-bench-'));
  const examplePolicy = join(root, 'deploy', 'examples', 'policy.yaml');
  const encryptPolicy = join(root, 'bench', 'policy-encrypt.yaml');
  const results: Partial<Record<Scenario, Result>> = {};
  log(`run ${run}: ${options.events} events of ${recordBytes} B, scenarios ${scenarios.join(', ')}`);
  try {
    for (const s of scenarios) {
      log(`scenario ${s}`);
      if (s === 'broker') results[s] = await broker();
      if (s === 'passthrough') results[s] = await measure(s, (t) => passthrough(t), options.events, true);
      if (s === 'passthroughRdkafka')
        results[s] = await measure(s, (t) => passthroughRdkafka(t), options.events, true);
      if (s === 'phigate')
        results[s] = await measure(s, (t) => phigate(t, s, examplePolicy, dir), options.events, true);
      if (s === 'reader') results[s] = await readerFloor(results.phigate?.eventsPerSec ?? null);
      if (s === 'phigateKafkajs')
        results[s] = await measure(
          s,
          (t) => phigate(t, s, examplePolicy, dir, 'kafkajs'),
          options.events,
          true,
        );
      if (s === 'phigateEncrypt')
        results[s] = await measure(s, (t) => phigate(t, s, encryptPolicy, dir), options.events, true);
      if (s === 'backlog') {
        const r = await measure(s, (t) => phigate(t, s, examplePolicy, dir), options.backlogEvents, false);
        results[s] = {
          ...r,
          notes: `phi-gate, example policy, ${options.backlogEvents} events already waiting at start`,
        };
      }
    }
  } finally {
    await cleanup().catch((e) => log(`cleanup: ${e.message}`));
    await rm(dir, { recursive: true, force: true });
    await admin.disconnect();
  }

  const machine = `node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
  console.log(`phi-gate pipeline benchmark — ${machine}`);
  console.log(
    `${options.events} events of ${recordBytes} B${scenarios.includes('backlog') ? ` (backlog ${options.backlogEvents})` : ''}, ${options.partitions} partitions, batch ${options.batchMaxRecords} records / ${options.batchMaxMs} ms, commit interval ${options.commitIntervalMs} ms, ${options.partitionsConcurrency} partition(s) concurrently, compression ${options.compression}, latency at ${options.rate === undefined ? `${options.load * 100}% of max` : `${options.rate}/s`}${options.instances > 1 ? `, ${options.instances} phi-gate instances per scenario` : ''}\n`,
  );
  console.log(table(results));
  for (const [name, r] of Object.entries(results)) if (r.notes) console.log(`  ${name}: ${r.notes}`);
  const pt = results.passthrough?.eventsPerSec;
  const ptr = results.passthroughRdkafka?.eventsPerSec;
  const pg = results.phigate?.eventsPerSec;
  if (pt && pg)
    console.log(
      `\nphi-gate / kafkajs pass-through: ${((pg / pt) * 100).toFixed(0)}% (target >= 40%, goal 100%)`,
    );
  if (ptr && pg)
    console.log(`phi-gate / librdkafka pass-through: ${((pg / ptr) * 100).toFixed(0)}% (goal >= 60%)`);

  if (args.json) {
    const json: Record<string, unknown> = {};
    for (const [name, r] of Object.entries(results)) {
      json[name] = {
        eventsPerSec: round(r.eventsPerSec),
        recordsOutPerSec: round(r.recordsOutPerSec),
        p50Ms: round(r.p50Ms),
        p95Ms: round(r.p95Ms),
        p99Ms: round(r.p99Ms),
        peakRssMb: round(r.peakRssMb),
        cpuSecPerKEvents: round(r.cpuSecPerKEvents, 4),
        // CPU seconds per thousand events is CPU milliseconds per event
        cpuMsPerEvent: round(r.cpuSecPerKEvents, 4),
        events: r.events,
        notes: r.notes,
        ...(r.box ? { box: roundedBox(r.box) } : {}),
        ...(r.ownLatency
          ? {
              ownLatency: {
                p50AtMostMs: r.ownLatency.p50AtMostMs,
                p99AtMostMs: r.ownLatency.p99AtMostMs,
                withinTargetPct: round(r.ownLatency.withinTargetPct, 1),
              },
            }
          : {}),
        options: { ...options, recordBytes, machine },
      };
    }
    writeFileSync(args.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${args.json}`);
  }
}

await main();
