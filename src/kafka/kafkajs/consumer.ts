/**
 * The kafkajs engine's consume loop: the consumer group on the input topic, and for each fetched
 * batch of a partition
 *
 *   (first batch after an assignment: fence the previous owner, skip what it already committed)
 *   split into chunks of at most `maxRecords` → the batch step → one transaction per chunk
 *
 * Failures are decided by the catalogue (../retry.ts): a dependency that is down pauses the
 * partition and retries with back-off while the member keeps heart-beating; a fenced producer means
 * the partition has a new owner and the chunk is abandoned uncommitted; anything else is fatal.
 *
 * Offsets are committed only inside transactions (autoCommit off): the committed offset of the group
 * is always the end of a committed transaction.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { PhiGateError } from '../../errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { type InputRecord, unreadableRecord } from '../../pipeline/records.ts';
import type { StepResult } from '../../pipeline/step.ts';
import { chunksOf, uncommitted } from '../chunks.ts';
import {
  type EngineHooks,
  type EngineName,
  heartbeatIntervalMs,
  type KafkaEngine,
  type Step,
} from '../engine.ts';
import { type Backoff, Delays, decide, reportFoundCommitted, reportPause } from '../retry.ts';
import { unreadableOf } from './compression.ts';
import { instrumentConsumer } from './instrument.ts';
import { StableOffsets } from './offsets.ts';
import { classify, type PartitionTransactions } from './transactions.ts';

export interface KafkajsEngineOptions {
  readonly kafka: Kafka;
  readonly inputTopic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly batch: { readonly maxRecords: number; readonly maxMs: number };
  readonly partitionsConsumedConcurrently: number;
  readonly retry: Backoff;
  readonly transactions: PartitionTransactions;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly hooks: EngineHooks;
}

type Control = Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>;

export class KafkajsEngine implements KafkaEngine {
  readonly name: EngineName = 'kafkajs';
  readonly #o: KafkajsEngineOptions;
  readonly #consumer: Consumer;
  readonly #offsets: StableOffsets;
  /** Partitions assigned since the last join whose committed offset has not been re-read yet. */
  readonly #unverified = new Set<number>();
  /**
   * Per partition, the committed offset last re-read after fencing: records below it were committed —
   * by a previous owner, or by an attempt whose answer was lost — and are skipped, in every chunk of
   * this batch and of any later one. Records below a committed offset never need processing, so the
   * floor is kept until the assignment changes or the partition is abandoned.
   */
  readonly #floor = new Map<number, bigint>();
  /**
   * Per partition, the result of a chunk whose transaction failed, and the input offset that
   * transaction would have committed: its outcome is unknown — the broker may have committed it and
   * only the answer failed — until the committed offset, re-read after fencing, says which. Settled
   * there (#settle); abandoned when the partition moves or the instance fails.
   */
  readonly #unsettled = new Map<number, { readonly result: StepResult; readonly next: bigint }>();
  #assigned: readonly number[] = [];
  #joined = false;
  #started = false;
  /** Set by a fatal error: nothing more is processed or committed. */
  #failed = false;
  #step: Step | undefined;

  constructor(options: KafkajsEngineOptions) {
    this.#o = options;
    this.#offsets = new StableOffsets(options.kafka, options.groupId);
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: options.batch.maxMs,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: 60_000,
      heartbeatInterval: heartbeatIntervalMs(options.sessionTimeoutMs),
    });
    instrumentConsumer(this.#consumer, options.metrics, 'consumer');
    const { GROUP_JOIN, CRASH, STOP } = this.#consumer.events;
    this.#consumer.on(GROUP_JOIN, (event) => this.#onJoin(event.payload.memberAssignment));
    this.#consumer.on(CRASH, (event) => {
      this.#joined = false;
      const { error, restart } = event.payload;
      this.#o.logger.error({ err: error, restart }, 'consumer crashed');
      if (!restart)
        this.#fatal(
          new PhiGateError('PHIGATE_ERR_KAFKA_FATAL', `consumer crashed: ${error.name}`, { cause: error }),
        );
    });
    this.#consumer.on(STOP, () => {
      this.#joined = false;
    });
  }

  get joined(): boolean {
    return this.#joined && !this.#failed;
  }

  async start(step: Step): Promise<void> {
    this.#step = step;
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

  async close(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#consumer.stop();
    await this.#consumer.disconnect();
    this.#joined = false;
    await this.#o.transactions.close();
    await this.#offsets.close();
  }

  #fatal(error: PhiGateError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#o.hooks.onFatal(error);
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
    for (const p of this.#unsettled.keys()) if (!partitions.includes(p)) this.#abandonUnsettled(p);
    this.#unverified.clear();
    this.#floor.clear();
    for (const p of partitions) this.#unverified.add(p);
    const keep = new Set(partitions.map((p) => this.#o.transactions.transactionalId(this.#o.inputTopic, p)));
    void this.#o.transactions.release(keep);
    this.#o.logger.info({ partitions }, 'joined the consumer group');
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const { topic, partition } = batch;
    const messages: KafkaMessage[] = batch.messages;
    if (messages.length === 0 || this.#failed) return;

    if (this.#unverified.has(partition)) {
      const committed = await this.#withRetry(payload, partition, () =>
        this.#fenceAndReadCommitted(topic, partition),
      );
      if (committed === undefined) return;
      this.#unverified.delete(partition);
    }
    const floor = this.#floor.get(partition);
    if (floor !== undefined && BigInt(batch.lastOffset()) < floor) {
      resolveOffset(batch.lastOffset());
      return;
    }

    for (const whole of chunksOf(messages, this.#o.batch.maxRecords)) {
      if (!this.#live(payload)) return;
      // read per chunk: a chunk's retry can re-read the committed offset and raise the floor
      const floor = this.#floor.get(partition);
      const chunk = floor === undefined ? whole : uncommitted(whole, floor);
      if (chunk.length > 0) {
        const done = await this.#withRetry(payload, partition, () =>
          this.#commitChunk(topic, partition, chunk),
        );
        if (done === undefined) return;
      }
      const last = whole[whole.length - 1] as KafkaMessage;
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

  /**
   * Initialises the partition's transactional producer (fencing zombies), reads the group's committed
   * offset and makes it the partition's floor: whatever another owner, or a lost answer, committed
   * meanwhile is skipped from here on.
   */
  async #fenceAndReadCommitted(topic: string, partition: number): Promise<bigint> {
    await this.#o.transactions.producer(topic, partition);
    // stable (offsets.ts), waiting at most a heartbeat interval for a pending offset to settle: this
    // runs inside a batch, where kafkajs does not heart-beat, and a longer wait (it was 30 s, the
    // whole session) cost the member its partitions. #withRetry retries an unstable read after a
    // back-off during which it heart-beats.
    const read = await this.#offsets.committed(
      topic,
      partition,
      heartbeatIntervalMs(this.#o.sessionTimeoutMs),
    );
    const committed = read < 0n ? 0n : read;
    this.#floor.set(partition, committed);
    this.#settle(partition, committed);
    return committed;
  }

  /** The committed offset says whether the partition's failed attempt committed after all. */
  #settle(partition: number, committed: bigint): void {
    const unsettled = this.#unsettled.get(partition);
    if (unsettled === undefined) return;
    this.#unsettled.delete(partition);
    if (committed < unsettled.next) {
      unsettled.result.abandoned();
      return;
    }
    unsettled.result.committed();
    reportFoundCommitted(this.#o.logger, this.#o.metrics);
  }

  async #commitChunk(topic: string, partition: number, whole: readonly KafkaMessage[]): Promise<true> {
    let chunk = whole;
    if (this.#unsettled.has(partition)) {
      // the last attempt failed with its outcome unknown: the committed offset decides
      chunk = uncommitted(whole, await this.#fenceAndReadCommitted(topic, partition));
      if (chunk.length === 0) return true;
    }
    const step = this.#step as Step;
    const records: readonly InputRecord[] = chunk.map(inputRecord);
    const result = await step([{ topic, partition, records }]);
    const next = BigInt((chunk[chunk.length - 1] as KafkaMessage).offset) + 1n;
    try {
      await this.#o.transactions.commit(topic, partition, result.outputs, next.toString());
    } catch (err) {
      this.#unsettled.set(partition, { result, next });
      throw err;
    }
    result.committed();
    return true;
  }

  /**
   * The batch is given up unresolved, and kafkajs hands its records back in a later batch — to this
   * member, when it still owns the partition (a heartbeat that failed during the back-off, a batch gone
   * stale): the partition is unverified again, so that batch first re-reads the committed offset. A
   * failed attempt may have committed with only its answer lost; committing its records again would
   * deliver them twice. Its result stays unsettled until that read, unless the partition moved.
   */
  #giveUp(partition: number): void {
    this.#unverified.add(partition);
    this.#floor.delete(partition);
  }

  /** A failed attempt's result is released uncommitted: whether it committed can no longer be told. */
  #abandonUnsettled(partition: number): void {
    this.#unsettled.get(partition)?.result.abandoned();
    this.#unsettled.delete(partition);
  }

  #live({ isRunning, isStale }: Control): boolean {
    return !this.#failed && isRunning() && !isStale();
  }

  /**
   * Runs `step` until it succeeds, as the catalogue decides; resolves undefined when the work must be
   * given up: abandoned (the partition moved), fatal (reported), stopping, revoked, or a heartbeat
   * failed during the back-off.
   *
   * A partition given up is unverified again (#giveUp). kafkajs fetches its records anew, and this member may
   * still be handed them before its next heartbeat tells it that it left the group (a zombie woken
   * from a pause). Its next transaction then begins with a fresh producer, whose initialisation fences
   * the partition's new owner, so the records that owner committed in the meantime must be skipped:
   * the committed offset is re-read after that fence, or the zombie commits them a second time.
   */
  async #withRetry<T>(control: Control, partition: number, step: () => Promise<T>): Promise<T | undefined> {
    const { logger, metrics } = this.#o;
    const delays = new Delays(this.#o.retry);
    for (;;) {
      try {
        return await step();
      } catch (raw) {
        const decision = decide(raw, classify);
        if (decision.action === 'abandon') {
          this.#abandonUnsettled(partition);
          this.#giveUp(partition);
          logger.warn({ code: decision.error.code }, 'the partition has a new owner; abandoning the batch');
          return undefined;
        }
        if (decision.action === 'fatal') {
          this.#abandonUnsettled(partition);
          this.#fatal(decision.error);
          return undefined;
        }
        const delay = delays.next();
        reportPause(logger, metrics, decision.error, delays.attempt, delay);
        if (!(await this.#sleep(delay, control))) {
          this.#giveUp(partition);
          logger.warn(
            { partition, code: decision.error.code },
            'retry given up (stopping, revoked, or a heartbeat failed); the committed offset is re-read before the partition goes on',
          );
          return undefined;
        }
      }
    }
  }

  /** Sleeps `ms` in short slices, heart-beating; false when the batch must be given up. */
  async #sleep(ms: number, control: Control): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!this.#live(control)) return false;
      await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
      try {
        await control.heartbeat();
      } catch {
        return false;
      }
    }
    return this.#live(control);
  }
}

/** kafkajs's message as the pipeline's record; a stand-in for an unreadable batch (compression.ts) as an unreadable record. */
function inputRecord(m: KafkaMessage): InputRecord {
  const unreadable = m.headers === undefined ? undefined : unreadableOf(m.headers);
  if (unreadable === undefined) return m;
  return unreadableRecord(m.offset, m.timestamp, unreadable);
}
