/**
 * The librdkafka engine: Kafka Streams' EOS-v2 on Confluent's client, through its low-level API.
 *
 *   consume up to maxRecords (any assigned partitions) → the batch step → ONE transaction
 *   (producer.ts): begin → produce every output → sendOffsetsToTransaction(next offsets, the
 *   consumer's group metadata) → commit
 *
 * One transactional producer serves the whole instance. Sending the offsets with the consumer's
 * group metadata (KIP-447) lets the coordinator refuse a commit from a member whose generation is
 * over: a zombie that lost its partitions cannot commit them. The assignment is eager
 * (config.ts): a rebalance revokes every partition and the new owner — this member again, or
 * another — reads from the committed offsets, so a batch in hand when its partitions are revoked is
 * simply aborted and given up. librdkafka changes the assignment only while the application polls,
 * and this loop polls only between batches; the partitions of a batch are checked against the
 * assignment right before its offsets are sent.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import rdkafka, { type KafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import { PhiGateError } from '../../errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { type InputRecord, unreadableRecord } from '../../pipeline/records.ts';
import type { PartitionBatch, StepResult } from '../../pipeline/step.ts';
import { uncommitted } from '../chunks.ts';
import type { EngineHooks, EngineName, KafkaEngine, Step } from '../engine.ts';
import { type Backoff, Delays, decide, reportFoundCommitted, reportPause } from '../retry.ts';
import { batchesOf, concatBatches, partitionKey, settleAll } from './batches.ts';
import { call, connectClient } from './client.ts';
import { CONSUMER_TOPIC_CONFIG, consumerConfig } from './config.ts';
import { classify } from './errors.ts';
import { bridgeLogs } from './log.ts';
import { OPERATION_TIMEOUT_MS, Transactions } from './producer.ts';
import { bridgeStatistics } from './stats.ts';
import { UnreadableFinder } from './unreadable.ts';

export interface RdkafkaEngineOptions {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly hooks: EngineHooks;
}

/** The instance's transactional id: stable across restarts of one pod, so a restart aborts its own open transaction at once. */
export function transactionalId(config: Config): string {
  return `${config.transactionalIdPrefix}-${config.instanceId ?? hostname()}`;
}

/** At most this many consumed batches (of up to PHIGATE_BATCH_MAX_RECORDS each) commit in one transaction. */
const TRANSACTION_BATCHES = 2;

/**
 * What a fetch made while a transaction commits races against: the moment the next transaction may
 * start (the one before it has committed, and PHIGATE_COMMIT_INTERVAL_MS has passed since it began).
 */
const READY = Symbol('ready');

// a CommonJS module: its classes come from the default export
const { KafkaConsumer: Consumer } = rdkafka;

export class RdkafkaEngine implements KafkaEngine {
  readonly name: EngineName = 'librdkafka';
  readonly #o: RdkafkaEngineOptions;
  readonly #consumer: KafkaConsumer;
  readonly #transactions: Transactions;
  readonly #input: string;
  readonly #retry: Backoff;
  /** Counts rebalances: a batch fetched in an earlier one is not committed. */
  #epoch = 0;
  /**
   * The partitions of the last assignment (partitionKey), as the rebalance callback gave them:
   * `consumer.assignments()` asks librdkafka's main thread and blocks this one until it answers.
   */
  #assigned = new Set<string>();
  /**
   * A batch of this generation was given up uncommitted while stopping during an outage: no later
   * batch of it may commit, or its offsets would skip that batch's records. (A fatal error stops
   * every commit anyway; an abandoned batch's partitions have another owner.)
   */
  #givenUpIn: number | undefined;
  #joined = false;
  #started = false;
  #stopping = false;
  #failed = false;
  #loop: Promise<void> | undefined;
  readonly #unreadable: UnreadableFinder;
  /** Ends a wait for the commit interval when the instance stops. */
  readonly #stopped = new AbortController();

  constructor(options: RdkafkaEngineOptions) {
    this.#o = options;
    const { config, logger } = options;
    this.#input = config.topics.input;
    this.#retry = config.retry;
    this.#consumer = new Consumer(consumerConfig(config), CONSUMER_TOPIC_CONFIG);
    this.#unreadable = new UnreadableFinder(config);
    this.#transactions = new Transactions({
      config,
      transactionalId: transactionalId(config),
      retry: config.retry,
      metrics: options.metrics,
      logger,
      onFenced: (error) => this.#fatal(error),
      stopping: () => this.#stopping,
    });
    bridgeLogs(this.#consumer, logger, 'consumer');
    bridgeStatistics(this.#consumer, options.metrics, 'consumer');
    // a batch is what has arrived: consume waits up to maxMs for its first record, then takes what
    // is queued (up to maxRecords) without waiting for more — full batches under load, small
    // ones at once when the stream is quiet. (The option is missing from the client's typings.)
    this.#consumer.setDefaultConsumeTimeout(config.batch.maxMs);
    (
      this.#consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.#consumer.on('rebalance', (err, assignment) => this.#onRebalance(err.code, assignment));
    this.#consumer.on('event.error', (err) => {
      if (err.isFatal) this.#fatal(decide(err, classify).error);
    });
  }

  get joined(): boolean {
    return this.#joined && !this.#failed;
  }

  async start(step: Step): Promise<void> {
    this.#started = true;
    try {
      await this.#transactions.connect();
      await connectClient(this.#consumer, this.#o.config.kafka.connectionTimeoutMs);
    } catch (err) {
      throw classify(err);
    }
    this.#consumer.subscribe([this.#input]);
    // the loop handles every failure it expects; one it does not (a bug) ends the instance, coded
    this.#loop = this.#run(step).catch((err: unknown) => this.#fatal(decide(err, classify).error));
  }

  async close(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#stopping = true;
    this.#stopped.abort();
    await this.#loop; // the batch in hand commits (or, after a fatal error, was aborted)
    // a client that never connected calls no disconnect callback
    if (this.#consumer.isConnected())
      await call<unknown>((cb) => this.#consumer.disconnect(cb)).catch(() => undefined); // leaves the group
    this.#joined = false;
    await this.#transactions.close();
    await this.#unreadable.close();
  }

  #fatal(error: PhiGateError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#stopping = true;
    this.#stopped.abort();
    this.#o.hooks.onFatal(error);
  }

  #onRebalance(code: number, assignment: readonly { topic: string; partition: number }[]): void {
    this.#epoch += 1;
    this.#unreadable.reset();
    const { metrics, logger } = this.#o;
    if (code === -175 /* ERR__ASSIGN_PARTITIONS */) {
      // eager (config.ts): an assignment is the whole of it, and every revocation revokes all
      this.#assigned = new Set(assignment.map((a) => partitionKey(a.topic, a.partition)));
      this.#joined = true;
      metrics.rebalances.inc({ event: 'join' });
      logger.info({ partitions: assignment.map((a) => a.partition) }, 'joined the consumer group');
    } else {
      this.#assigned = new Set();
      metrics.rebalances.inc({ event: 'rebalancing' });
      // another member reports these partitions' lag now
      for (const { topic, partition } of assignment)
        metrics.consumerLag.remove({ topic, partition: String(partition) });
    }
  }

  /**
   * Batches are processed while the transaction before them commits: a commit mostly waits on the
   * broker, so the steps of the next batches run in that time instead of after it. What arrives
   * while a transaction commits joins the next one (up to TRANSACTION_BATCHES consumed batches):
   * under load a transaction carries several batches, and the one sequential cost of exactly once
   * — a transaction's round trips — is paid per transaction, not per batch; when the stream is
   * quiet a transaction carries one small batch at once. Transactions stay strictly in order, one
   * at a time. Batches fetched in an earlier rebalance generation than the one committing are given
   * up: the eager rebalance reset every position to the committed offsets.
   *
   * A fetch waits up to PHIGATE_BATCH_MAX_MS for its first record. One made while a transaction
   * commits stops holding up the batches in hand once that transaction has committed: they go
   * into the next transaction at once, and what the fetch brings later starts the group after.
   * (Waiting for it held a batch back for up to 100 ms whenever the input paused for a moment:
   * the p99 at half load was those moments.)
   *
   * PHIGATE_COMMIT_INTERVAL_MS spaces the starts of transactions, as Kafka Streams'
   * commit.interval.ms does: a transaction's round trips cost the brokers and this process about
   * as much for one record as for a thousand, so with no interval a slow stream pays them for
   * every few records. The batches in hand meanwhile keep being processed, and what arrives joins
   * them (#full).
   */
  async #run(step: Step): Promise<void> {
    let previous: Promise<void> | undefined;
    let committing = false;
    /** When (performance.now()) the next transaction may start at the earliest. */
    let notBefore = 0;
    let carried: { batches: PartitionBatch[]; epoch: number } | undefined;
    /** A fetch made while a transaction committed, not awaited yet: the next group's first. */
    let pending: Promise<PartitionBatch[] | undefined> | undefined;
    try {
      while (!this.#stopping) {
        let next = carried;
        carried = undefined;
        if (next === undefined) {
          const batches = await (pending ?? this.#fetch());
          pending = undefined;
          if (batches === undefined) continue;
          next = { batches, epoch: this.#epoch };
        }
        const { epoch } = next;
        const group = [next.batches];
        const attempts = [begin(step, next.batches)];
        const ready = this.#ready(committing ? previous : undefined, notBefore);
        let records = recordsIn(next.batches);
        while (ready !== undefined && !this.#full(group.length, records) && !this.#stopping) {
          const fetching = this.#fetch();
          const batches = await Promise.race([fetching, ready]);
          if (batches === READY) {
            pending = fetching; // the batches in hand commit now; this fetch starts the next group
            break;
          }
          if (batches === undefined) break;
          if (this.#epoch !== epoch) {
            carried = { batches, epoch: this.#epoch }; // a new generation: its own transaction
            break;
          }
          group.push(batches);
          records += recordsIn(batches);
          attempts.push(begin(step, batches));
        }
        const early = settleAll(attempts); // handled in #commitWithRetry
        early.catch(() => undefined); // never an unhandled rejection
        await ready;
        await previous;
        notBefore = performance.now() + this.#o.config.batch.commitIntervalMs;
        committing = true;
        previous = this.#commitWithRetry(step, concatBatches(group), epoch, early).finally(() => {
          committing = false;
        });
      }
    } finally {
      await previous;
      await pending?.catch(() => undefined); // a consume in flight ends before the client is closed
    }
  }

  /**
   * Whether a group of consumed batches takes no more before its transaction starts. Without a
   * commit interval, TRANSACTION_BATCHES batches: a larger group only makes its transaction longer
   * (BENCHMARKS.md, session 21). With one, what arrives in the interval joins (up to that many full
   * batches' records), or it would wait for the interval after.
   */
  #full(batches: number, records: number): boolean {
    const { commitIntervalMs, maxRecords } = this.#o.config.batch;
    return commitIntervalMs === 0
      ? batches >= TRANSACTION_BATCHES
      : records >= TRANSACTION_BATCHES * maxRecords;
  }

  /**
   * Resolves when the next transaction may start: once `committing` (the transaction in flight, if
   * any) has committed and the time is `notBefore` or later — at once when stopping. Undefined when
   * it may start now.
   */
  #ready(committing: Promise<void> | undefined, notBefore: number): Promise<typeof READY> | undefined {
    const wait = notBefore - performance.now();
    if (committing === undefined && (wait <= 0 || this.#stopping)) return undefined;
    const interval =
      wait > 0 && !this.#stopping
        ? sleep(wait, undefined, { signal: this.#stopped.signal }).catch(() => undefined)
        : undefined;
    return Promise.all([committing, interval]).then((): typeof READY => READY);
  }

  /** The next consumed batches; undefined when there were none (or the fetch failed, handled here). */
  async #fetch(): Promise<PartitionBatch[] | undefined> {
    let messages: Message[];
    try {
      messages = await call<Message[]>((cb) => this.#consumer.consume(this.#o.config.batch.maxRecords, cb));
    } catch (err) {
      if (this.#stopping) return undefined;
      const decision = decide(err, classify);
      if (decision.error.code === 'PHIGATE_ERR_BAD_BATCH') return this.#skipUnreadable(decision.error);
      if (decision.action === 'fatal') {
        this.#fatal(decision.error);
        return undefined;
      }
      // a fetch error the client will get over (a broker restarting): back off briefly
      this.#o.logger.warn(
        { code: decision.error.code, reason: decision.error.message },
        'consume failed; retrying',
      );
      await sleep(this.#retry.initialMs);
      return undefined;
    }
    return messages.length === 0 ? undefined : batchesOf(messages);
  }

  /**
   * The record librdkafka cannot read (unreadable.ts), as a batch of its own for the step, which
   * dead-letters it; the consumer seeks past it. Its offset commits with the dead letter, so after a
   * crash or a rebalance the partition's owner finds it again, and no record is skipped unread.
   */
  async #skipUnreadable(error: PhiGateError): Promise<PartitionBatch[] | undefined> {
    const { logger } = this.#o;
    const at = await this.#unreadable.find(this.#consumer).catch((err: unknown) => {
      logger.warn({ err }, 'looking for the unreadable input batch failed');
      return undefined;
    });
    if (at === undefined) {
      logger.error(
        { code: error.code, reason: error.message },
        'an input batch cannot be read and no assigned partition holds it now; retrying',
      );
      await sleep(this.#retry.initialMs);
      return undefined;
    }
    const { topic, partition, offset } = at;
    logger.error(
      { code: error.code, reason: error.message, topic, partition, offset },
      'input record unreadable: it is dead-lettered and skipped',
    );
    try {
      await call((cb) =>
        this.#consumer.seek({ topic, partition, offset: offset + 1 }, OPERATION_TIMEOUT_MS, cb),
      );
    } catch (err) {
      // revoked meanwhile, or the broker is away: the next fetch meets the batch again (or its new
      // owner does), and nothing was skipped
      logger.warn(
        { err, topic, partition, offset },
        'seeking past the unreadable input batch failed; retrying',
      );
      await sleep(this.#retry.initialMs);
      return undefined;
    }
    const unreadable = new PhiGateError(
      'PHIGATE_ERR_BAD_BATCH',
      `the client cannot read the record batch holding this offset (${error.message}); its bytes stay in the input topic`,
      { cause: error },
    );
    return [
      { topic, partition, records: [unreadableRecord(String(offset), String(Date.now()), unreadable)] },
    ];
  }

  /**
   * Processes and commits one batch, as the catalogue decides, until it commits or is given up.
   * `early` is the step's first attempt, started while the previous batch committed.
   *
   * A failed transaction's outcome is unknown to the client when the broker committed it but its
   * answer was lost or garbled: before the batch is processed again, the group's committed offsets
   * say which of its records are still to do, and whether the failed attempt in fact committed.
   */
  async #commitWithRetry(
    step: Step,
    whole: PartitionBatch[],
    epoch: number,
    early: Promise<StepResult>,
  ): Promise<void> {
    const { logger, metrics } = this.#o;
    const delays = new Delays(this.#retry);
    let batches = whole;
    let attempt: Promise<StepResult> | undefined = early;
    /** The result of the last failed attempt, until the committed offsets settle it. */
    let unsettled: StepResult | undefined;
    for (;;) {
      let result: StepResult | undefined;
      try {
        if (unsettled !== undefined) {
          batches = await this.#uncommitted(whole);
          const settled = unsettled;
          unsettled = undefined;
          if (batches.length === 0) {
            settled.committed();
            this.#observeLag(whole);
            reportFoundCommitted(logger, metrics);
            return;
          }
          settled.abandoned();
        }
        result = await (attempt ?? step(batches));
        attempt = undefined;
        if (this.#failed || epoch !== this.#epoch || epoch === this.#givenUpIn) {
          // revoked since it was fetched (its new owner reads it again), the instance is ending, or
          // a batch before it was given up (whoever owns the partitions next reads both again)
          result.abandoned();
          return;
        }
        await this.#transactions.run(result.outputs, nextOffsets(batches), this.#consumer, () =>
          this.#checkAssignment(batches, epoch),
        );
        result.committed();
        this.#observeLag(batches);
        return;
      } catch (raw) {
        attempt = undefined;
        if (result !== undefined) unsettled = result;
        const decision = this.#failed ? undefined : decide(raw, classify);
        if (decision?.action === 'retry' && !this.#stopping) {
          const delay = delays.next();
          reportPause(logger, metrics, decision.error, delays.attempt, delay);
          await sleep(delay);
          continue;
        }
        // given up: failed, abandoned, fatal, or stopping during an outage (the next owner takes it).
        // A retry given up (stopping) is the one that leaves partitions of this member behind it; an
        // abandoned batch's partitions are another member's already, and marking its generation
        // would stall this member's others
        if (decision?.action === 'retry') this.#givenUpIn = epoch;
        unsettled?.abandoned();
        if (decision?.action === 'abandon')
          logger.warn({ code: decision.error.code, reason: decision.error.message }, 'abandoning the batch');
        if (decision?.action === 'fatal') this.#fatal(decision.error);
        return;
      }
    }
  }

  /** The batches without the records the group has committed (read_committed: stable offsets only). */
  async #uncommitted(batches: readonly PartitionBatch[]): Promise<PartitionBatch[]> {
    const committed = await call<{ topic: string; partition: number; offset?: number }[]>((cb) =>
      this.#consumer.committed(
        batches.map(({ topic, partition }) => ({ topic, partition })),
        OPERATION_TIMEOUT_MS,
        cb,
      ),
    );
    const floor = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), BigInt(c.offset ?? -1)]));
    return batches.flatMap((b) => {
      const records = uncommitted(b.records, floor.get(partitionKey(b.topic, b.partition)) ?? -1n);
      return records.length === 0 ? [] : [{ ...b, records }];
    });
  }

  /**
   * The batch's partitions must still be this member's, in the generation that fetched them. The
   * epoch alone does not cover it: a batch's epoch is read when its fetch returns, and a fetch in
   * flight while the rebalance callback ran can still hand over records of partitions it revoked.
   */
  #checkAssignment(batches: readonly PartitionBatch[], epoch: number): void {
    const lost = batches.filter((b) => !this.#assigned.has(partitionKey(b.topic, b.partition)));
    if (epoch !== this.#epoch || lost.length > 0) {
      throw new PhiGateError(
        'PHIGATE_ERR_PARTITION_MOVED',
        `partitions ${lost.map((b) => b.partition).join(', ') || '(all)'} were revoked while their batch was processed`,
      );
    }
  }

  #observeLag(batches: readonly PartitionBatch[]): void {
    for (const { topic, partition, records } of batches) {
      try {
        const { highOffset } = this.#consumer.getWatermarkOffsets(topic, partition);
        const next = Number((records[records.length - 1] as InputRecord).offset) + 1;
        if (highOffset >= 0)
          this.#o.metrics.consumerLag.set(
            { topic, partition: String(partition) },
            Math.max(0, highOffset - next),
          );
      } catch {
        // no watermark known yet for this partition: the next batch sets it
      }
    }
  }
}

/** Where each partition of the batches resumes: one past its last record. */
function nextOffsets(
  batches: readonly PartitionBatch[],
): { topic: string; partition: number; offset: number }[] {
  return batches.map((b) => ({
    topic: b.topic,
    partition: b.partition,
    offset: Number((b.records[b.records.length - 1] as InputRecord).offset) + 1,
  }));
}

/**
 * Starts a batch's step ahead of its transaction. Its failure is handled when the transaction
 * settles it (#commitWithRetry), which can be after the next fetch: marked handled now, or a
 * registry outage during that fetch would be an unhandled rejection that ends the process.
 */
function begin(step: Step, batches: PartitionBatch[]): Promise<StepResult> {
  const attempt = step(batches);
  attempt.catch(() => undefined);
  return attempt;
}

function recordsIn(batches: readonly PartitionBatch[]): number {
  let n = 0;
  for (const b of batches) n += b.records.length;
  return n;
}
