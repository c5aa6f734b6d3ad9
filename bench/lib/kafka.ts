/** Kafka helpers of the pipeline benchmark: fill a topic, follow a group's committed offsets, measure latency. */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import type { BoxLoad, BoxProbe } from './box.ts';
import type { EventFactory } from './events.ts';

/** Produces events [from, from + n) as fast as the broker takes them (not a measured phase). */
export async function fill(
  kafka: Kafka,
  topic: string,
  factory: EventFactory,
  from: number,
  n: number,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const step = 2000;
  const inflight = new Set<Promise<unknown>>();
  for (let i = from; i < from + n; i += step) {
    const now = Date.now();
    const messages = [];
    for (let j = i; j < Math.min(i + step, from + n); j++) messages.push(factory.message(j, now));
    const p = producer.send({ topic, messages, acks: -1 }).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 4) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  await producer.disconnect();
}

export async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  let sum = 0;
  for (const p of offsets.find((t) => t.topic === topic)?.partitions ?? [])
    sum += Math.max(0, Number(p.offset));
  return sum;
}

export async function endOffsets(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
}

export interface Window {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly from: number;
  readonly to: number;
  readonly cpuFrom: number;
  readonly cpuTo: number;
}

/**
 * Follows the group's committed offsets until they reach `total`. The window starts at the first
 * commit (so start-up, group join and producer fencing are left out) and ends at the last.
 */
export async function follow(
  admin: Admin,
  groupId: string,
  topic: string,
  total: number,
  cpu: () => number,
  alive: () => boolean,
  timeoutMs: number,
): Promise<Window> {
  const deadline = Date.now() + timeoutMs;
  let start: { at: number; offset: number; cpu: number } | undefined;
  for (;;) {
    if (!alive()) throw new Error('the process under test exited');
    if (Date.now() > deadline) throw new Error(`timed out: ${groupId} did not reach ${total}`);
    const at = Date.now();
    const c = cpu();
    const offset = await committed(admin, groupId, topic);
    if (start === undefined && offset > 0) start = { at, offset, cpu: c };
    if (start !== undefined && offset >= total) {
      return {
        startedAt: start.at,
        endedAt: at,
        from: start.offset,
        to: offset,
        cpuFrom: start.cpu,
        cpuTo: c,
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Events in one send of the latency phase: ~350 KB, well under the broker's 1 MiB per batch. */
const MAX_EVENTS_PER_SEND = 1000;

export interface Latency {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly samples: number;
  readonly sent: number;
  /** CPU time of the bench process (the instrument's producer and reader) per event sent. */
  readonly instrumentCpuMsPerEvent: number;
  /** The cores' load over the counted seconds, when a probe was given. */
  readonly box: BoxLoad | null;
}

/**
 * End-to-end latency at a fixed offered load: a rate-limited producer stamps each event's
 * `timestamp` at send time; a read_committed reader of `outTopic` takes receive time − timestamp.
 * The first `warmupSeconds` are not counted.
 */
export async function latency(opts: {
  kafka: Kafka;
  registryUrl: string;
  inTopic: string;
  outTopic: string;
  factory: EventFactory;
  prefix: string;
  firstIndex: number;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Begun when the counted seconds begin, ended when sending ends. */
  box?: BoxProbe;
  /** Called when the counted seconds begin. */
  onCounting?: () => void;
}): Promise<Latency> {
  const { kafka, factory, rate, seconds } = opts;
  const registry = new SchemaRegistry({ host: opts.registryUrl });
  const samples: number[] = [];
  let countFrom = Number.POSITIVE_INFINITY;
  const reader = kafka.consumer({
    groupId: `${opts.outTopic}-latency-reader`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  let joined = false;
  reader.on(reader.events.GROUP_JOIN, () => {
    joined = true;
  });
  await reader.connect();
  await reader.subscribe({ topics: [opts.outTopic], fromBeginning: false });
  await reader.run({
    // The reader's offsets are never used, and kafkajs commits them after every batch, before its
    // next fetch: that commit's round trip was in every sample (the `reader` scenario, read
    // straight from the input topic at 9,000/s: p50 17–19 / p99 36–40 ms with it, 1 / 4–7 without).
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const received = Date.now();
      for (const m of batch.messages) {
        if (!m.value) continue;
        const v = (await registry.decode(m.value)) as { messageId?: string; timestamp?: number };
        if (typeof v.messageId !== 'string' || !v.messageId.startsWith(opts.prefix)) continue;
        if (typeof v.timestamp === 'number' && v.timestamp >= countFrom) samples.push(received - v.timestamp);
      }
    },
  });
  while (!joined) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2000)); // the reader's first fetch resolves "latest" before we send

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const cpu = process.cpuUsage();
  const started = Date.now();
  countFrom = started + opts.warmupSeconds * 1000;
  const countingTimer = setTimeout(() => {
    opts.box?.begin();
    opts.onCounting?.();
  }, opts.warmupSeconds * 1000);
  let sent = 0;
  const inflight = new Set<Promise<unknown>>();
  while (Date.now() < started + seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    if (due > sent) {
      const now = Date.now();
      // after a stall of this process the events due can exceed what one request may carry (the
      // broker's 1 MiB message.max.bytes: at 25,000/s a 120 ms stall is enough); each send is bounded
      for (let first = sent; sent < due; first = sent) {
        const messages = [];
        for (; sent < due && sent - first < MAX_EVENTS_PER_SEND; sent++)
          messages.push(factory.message(opts.firstIndex + sent, now));
        const p = producer
          .send({ topic: opts.inTopic, messages, acks: -1 })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  clearTimeout(countingTimer);
  const box = opts.box?.end() ?? null;
  await Promise.all(inflight);
  await producer.disconnect();
  const expected = Math.max(0, Math.floor(sent * (1 - opts.warmupSeconds / seconds)) - Math.ceil(rate));
  const deadline = Date.now() + 30_000;
  while (samples.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 500));
  const used = process.cpuUsage(cpu);
  await reader.disconnect();
  samples.sort((a, b) => a - b);
  const q = (p: number) =>
    samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? Number.NaN;
  return {
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    samples: samples.length,
    sent,
    instrumentCpuMsPerEvent: (used.user + used.system) / 1000 / Math.max(1, sent),
    box,
  };
}
