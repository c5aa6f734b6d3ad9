/**
 * The consume loop: the consumer group on the input topic, and for each fetched batch of a partition
 *
 *   (first batch after an assignment: fence the previous owner, skip what it already committed)
 *   split into chunks of at most `maxRecords` → processBatch → one transaction per chunk → next chunk
 *
 * A chunk that cannot complete because a dependency is down (registry, broker, transaction) is
 * retried with exponential backoff while the member keeps heart-beating: the partition pauses, nothing
 * is skipped, nothing goes to the DLQ for it. A fenced producer means the partition has a new owner:
 * the chunk is abandoned uncommitted and the new owner processes it.
 *
 * Offsets are committed only inside transactions (autoCommit off): the committed offset of the group
 * is always the end of a committed transaction.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { isPhiGateError, type PhiGateError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PolicySource } from './policy-source.ts';
import type { BatchContext, InputRecord } from './process.ts';
import { processBatch } from './process.ts';
import { classify, type PartitionTransactions } from './transactions.ts';

export interface RunnerOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly inputTopic: string;
  readonly groupId: string;
  readonly batch: { readonly maxRecords: number; readonly maxMs: number };
  readonly partitionsConsumedConcurrently: number;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  readonly context: BatchContext;
  readonly policy: PolicySource;
  readonly transactions: PartitionTransactions;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly instrument?: (consumer: Consumer) => void;
}

type Control = Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>;

export class Runner {
  readonly #o: RunnerOptions;
  readonly #consumer: Consumer;
  /** Partitions assigned since the last join whose committed offset has not been re-read yet. */
  readonly #unverified = new Set<number>();
  /**
   * Per partition, the committed offset re-read after fencing: records below it were committed by the
   * previous owner and are skipped — in this batch and in any later one still below it.
   */
  readonly #floor = new Map<number, bigint>();
  #assigned: readonly number[] = [];
  #joined = false;
  #started = false;

  constructor(options: RunnerOptions) {
    this.#o = options;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.batch.maxMs,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
    });
    options.instrument?.(this.#consumer);
    const { GROUP_JOIN, CRASH, STOP } = this.#consumer.events;
    this.#consumer.on(GROUP_JOIN, (event) => this.#onJoin(event.payload.memberAssignment));
    this.#consumer.on(CRASH, (event) => {
      this.#joined = false;
      this.#o.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
    this.#consumer.on(STOP, () => {
      this.#joined = false;
    });
  }

  /** True once the member has joined the group and holds an assignment (possibly empty). */
  get joined(): boolean {
    return this.#joined;
  }

  async start(): Promise<void> {
    this.#started = true;
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [this.#o.inputTopic], fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  /** Stops fetching, lets the in-flight chunk finish and commit, leaves the group. Idempotent. */
  async close(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#consumer.stop();
    await this.#consumer.disconnect();
    this.#joined = false;
  }

  #onJoin(assignment: Record<string, number[]>): void {
    this.#joined = true;
    const partitions = assignment[this.#o.inputTopic] ?? [];
    // a partition another member owns now is its to report: a stale lag series would mislead alerts
    for (const p of this.#assigned) {
      if (!partitions.includes(p))
        this.#o.metrics.consumerLag.remove({ topic: this.#o.inputTopic, partition: String(p) });
    }
    this.#assigned = partitions;
    this.#unverified.clear();
    this.#floor.clear();
    for (const p of partitions) this.#unverified.add(p);
    const keep = new Set(partitions.map((p) => this.#o.transactions.transactionalId(this.#o.inputTopic, p)));
    void this.#o.transactions.release(keep);
    this.#o.logger.info({ partitions }, 'joined the consumer group');
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    let messages: KafkaMessage[] = batch.messages;
    if (messages.length === 0) return;

    if (this.#unverified.has(partition)) {
      const committed = await this.#withRetry(payload, () => this.#fenceAndReadCommitted(topic, partition));
      if (committed === undefined) return;
      this.#unverified.delete(partition);
      // a previous owner's last transaction may have committed after our offsets were fetched
      this.#floor.set(partition, committed);
    }
    const floor = this.#floor.get(partition);
    if (floor !== undefined) {
      if (BigInt(batch.lastOffset()) < floor) {
        resolveOffset(batch.lastOffset());
        return;
      }
      messages = messages.filter((m) => BigInt(m.offset) >= floor);
      this.#floor.delete(partition); // this batch reaches past the floor: later ones start above it
      if (messages.length === 0) {
        resolveOffset(batch.lastOffset());
        return;
      }
    }

    const max = this.#o.batch.maxRecords;
    for (let i = 0; i < messages.length; i += max) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + max);
      const done = await this.#withRetry(payload, () => this.#commitChunk(topic, partition, chunk));
      if (done === undefined) return;
      const last = chunk[chunk.length - 1] as KafkaMessage;
      resolveOffset(last.offset);
      this.#o.metrics.consumerLag.set(
        { topic, partition: String(partition) },
        Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
      );
      try {
        await heartbeat();
      } catch {
        return; // a rebalance is under way: give the partition back promptly
      }
    }
  }

  /** Initialises the partition's transactional producer (fencing zombies) and reads the group's committed offset. */
  async #fenceAndReadCommitted(topic: string, partition: number): Promise<bigint> {
    await this.#o.transactions.producer(topic, partition);
    const offsets = await this.#o.admin.fetchOffsets({ groupId: this.#o.groupId, topics: [topic] });
    const entry = offsets.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
    const offset = entry ? BigInt(entry.offset) : -1n;
    return offset < 0n ? 0n : offset;
  }

  async #commitChunk(topic: string, partition: number, chunk: readonly KafkaMessage[]): Promise<true> {
    const { context, policy, metrics } = this.#o;
    const started = process.hrtime.bigint();
    const current = policy.current; // captured once: a reload takes effect at the next chunk
    const records = chunk as readonly InputRecord[];
    const output = await processBatch(context, current, { topic, partition }, records);
    const policyEntries = policy.claimAudit();
    if (policyEntries.length > 0) {
      const now = context.now();
      output.topicMessages.push({
        topic: context.auditTopic,
        messages: policyEntries.map((d) => context.audit.policy(d, now)),
      });
    }
    const last = chunk[chunk.length - 1] as KafkaMessage;
    try {
      await this.#o.transactions.commit(
        topic,
        partition,
        output.topicMessages,
        (BigInt(last.offset) + 1n).toString(),
      );
    } catch (err) {
      policy.auditAbandoned(policyEntries);
      throw err;
    }
    policy.auditWritten(policyEntries);

    const now = Date.now();
    metrics.eventsConsumed.inc({ topic }, chunk.length);
    metrics.batchSize.observe(chunk.length);
    metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    for (const m of chunk) metrics.endToEndLatency.observe(Math.max(0, now - Number(m.timestamp)) / 1000);
    return true;
  }

  /**
   * Runs `step` until it succeeds; between attempts backs off exponentially while heart-beating.
   * Resolves undefined when the step must be abandoned: fenced, stopping, or the partition was revoked.
   */
  async #withRetry<T>(control: Control, step: () => Promise<T>): Promise<T | undefined> {
    const { retry, metrics, logger } = this.#o;
    let delay = retry.initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (raw) {
        const err: PhiGateError = isPhiGateError(raw) ? raw : classify(raw);
        if (err.code === 'PHIGATE_ERR_FENCED') {
          logger.warn(
            { code: err.code },
            'producer fenced: the partition has a new owner; abandoning the batch',
          );
          return undefined;
        }
        const reason = err.code === 'PHIGATE_ERR_REGISTRY_UNAVAILABLE' ? 'registry' : 'broker';
        metrics.pauses.inc({ reason });
        logger.warn(
          { code: err.code, attempt, retryInMs: delay, reason: err.message },
          'batch paused; will retry',
        );
        if (!(await this.#sleep(delay, control))) return undefined;
        delay = Math.min(delay * 2, retry.maxMs);
      }
    }
  }

  /** Sleeps `ms` in short slices, heart-beating; false when the batch must be given up. */
  async #sleep(ms: number, { heartbeat, isRunning, isStale }: Control): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!isRunning() || isStale()) return false;
      await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
      try {
        await heartbeat();
      } catch {
        return false;
      }
    }
    return isRunning() && !isStale();
  }
}
