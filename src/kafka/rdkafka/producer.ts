/**
 * The librdkafka engine's one transactional producer: a transaction is every output of a batch, its
 * input offsets sent with the consumer's group metadata (KIP-447), and the commit. What fails is
 * aborted, resumed or the producer replaced, as below; the engine's retry loop decides the rest.
 *
 * No per-message promise or delivery report: records are queued, a topic's many in one call of the
 * client's `produceBatch` (deploy/local/kafka-javascript-produce.patch), and `commitTransaction`
 * flushes them and fails if any could not be delivered. (Its flush returns when the last record is
 * delivered: deploy/local/librdkafka-flush.patch.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import rdkafka, { type KafkaConsumer, type Producer } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import { PhiGateError } from '../../errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { OutMessage, TopicMessages } from '../../pipeline/records.ts';
import { type Backoff, Delays, decide, observeTransaction, reportPause } from '../retry.ts';
import { call, connectClient } from './client.ts';
import { PRODUCER_TOPIC_CONFIG, producerConfig, TRANSACTION_TIMEOUT_MS } from './config.ts';
import { CODE, classify, isRdkafkaError } from './errors.ts';
import { bridgeLogs } from './log.ts';
import { bridgeStatistics } from './stats.ts';

export const OPERATION_TIMEOUT_MS = 30_000;

export interface TransactionsOptions {
  readonly config: Config;
  readonly transactionalId: string;
  readonly retry: Backoff;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Another instance took the transactional id over: the engine ends. */
  readonly onFenced: (error: PhiGateError) => void;
  /** The engine is stopping: a failed transaction is not retried or resumed. */
  readonly stopping: () => boolean;
}

// a CommonJS module: its classes come from the default export
const { Producer: TransactionalProducer } = rdkafka;

export class Transactions {
  readonly #o: TransactionsOptions;
  #producer: Producer;
  /**
   * Why the producer cannot run a transaction — it reported a fatal error, or it was never connected
   * and initialised — so that the next transaction replaces it first; undefined while it is usable.
   */
  #unusable: string | undefined;

  constructor(options: TransactionsOptions) {
    this.#o = options;
    this.#producer = this.#newProducer();
  }

  async close(): Promise<void> {
    if (this.#producer.isConnected())
      await call<unknown>((cb) => this.#producer.disconnect(cb)).catch(() => undefined);
  }

  /**
   * The instance's transactional producer. A fatal producer error other than fencing (librdkafka
   * ends a producer whose transaction state it cannot trust, e.g. an abort refused after a
   * rebalance) does not end the instance: the producer is replaced, and initialising the same
   * transactional id aborts whatever the old one left open (`run`).
   */
  #newProducer(): Producer {
    const { config, logger } = this.#o;
    const producer = new TransactionalProducer(
      producerConfig(config, this.#o.transactionalId),
      PRODUCER_TOPIC_CONFIG,
    );
    bridgeLogs(producer, logger, 'producer');
    bridgeStatistics(producer, this.#o.metrics, 'producer');
    producer.on('event.error', (err) => {
      if (!err.isFatal || producer !== this.#producer) return; // a replaced producer's last words
      const error = decide(err, classify).error;
      if (error.code === 'PHIGATE_ERR_FENCED') this.#o.onFenced(error);
      else this.#unusable = 'the producer reported a fatal error';
    });
    return producer;
  }

  /** Connects the producer and initialises its transactional id. */
  async connect(): Promise<void> {
    await connectClient(this.#producer, this.#o.config.kafka.connectionTimeoutMs);
    this.#producer.setPollInBackground(true);
    // fences an earlier incarnation of this instance and aborts its open transaction
    await call((cb) => this.#producer.initTransactions(OPERATION_TIMEOUT_MS, cb));
  }

  /** Replaces a producer librdkafka gave up on; the batch is retried by a later attempt. */
  async #replaceProducer(cause: unknown): Promise<never> {
    this.#o.logger.warn({ err: cause }, 'transactional producer unusable; replacing it');
    const old = this.#producer;
    await call<unknown>((cb) => old.disconnect(cb)).catch(() => undefined);
    this.#producer = this.#newProducer();
    // until it is initialised: an initialisation that failed (or timed out, which librdkafka keeps
    // in progress and refuses every other call meanwhile) leaves a producer that can never begin a
    // transaction, and the next attempt must replace it again
    this.#unusable = 'the previous replacement could not be initialised';
    try {
      await this.connect();
      this.#unusable = undefined;
    } catch (err) {
      this.#o.logger.warn(
        { code: isRdkafkaError(err) ? err.code : undefined, reason: (err as Error).message },
        'the new transactional producer could not be initialised; the next attempt replaces it again',
      );
      throw classify(err);
    }
    throw new PhiGateError(
      'PHIGATE_ERR_TRANSACTION',
      'the transactional producer was replaced; the batch is retried',
      {
        cause,
      },
    );
  }

  /**
   * One transaction: every output, then — once `beforeOffsets` has not thrown (the engine checks its
   * assignment there) — the offsets with the consumer's group metadata (KIP-447), then the commit.
   * A failure aborts the transaction (or replaces the producer) and is thrown.
   */
  async run(
    outputs: readonly TopicMessages[],
    offsets: readonly { topic: string; partition: number; offset: number }[],
    consumer: KafkaConsumer,
    beforeOffsets: () => void,
  ): Promise<void> {
    if (this.#unusable !== undefined) await this.#replaceProducer(new Error(this.#unusable));
    const producer = this.#producer;
    const started = process.hrtime.bigint();
    await call((cb) => producer.beginTransaction(cb)).catch((err: unknown) => {
      // beginning is local to librdkafka: only the producer's state refuses it (not initialised, a
      // call in progress, a fatal error), and would refuse every retry the same way
      this.#unusable = `it could not begin a transaction (${(err as Error).message})`;
      throw err;
    });
    try {
      for (const { topic, messages } of outputs) await this.#produceAll(producer, topic, messages);
      beforeOffsets();
      await call((cb) => producer.sendOffsetsToTransaction([...offsets], consumer, OPERATION_TIMEOUT_MS, cb));
      await this.#commit(producer);
      observeTransaction(this.#o.metrics, 'committed', started);
    } catch (err) {
      observeTransaction(this.#o.metrics, 'aborted', started);
      this.#o.logger.warn(
        { code: isRdkafkaError(err) ? err.code : undefined, reason: (err as Error).message },
        'transaction failed; aborting it',
      );
      if (!isRdkafkaError(err) && !(err instanceof PhiGateError)) {
        // a bug, not the client: nothing commits, and the catalogue ends the instance (fatal)
        // instead of replacing the producer and retrying the batch for ever
        await call((cb) => producer.abortTransaction(OPERATION_TIMEOUT_MS, cb)).catch(() => undefined);
        throw err;
      }
      const fenced = decide(err, classify).error.code === 'PHIGATE_ERR_FENCED';
      // A transaction that outlived transaction.timeout.ms (the broker was down or frozen) is
      // aborted by its coordinator, which bumps the producer epoch; librdkafka reports that as
      // fencing although no other instance is involved. The transaction is gone, so a new producer
      // re-initialises the id and the batch is retried (#replaceProducer throws a pausing error).
      if (fenced && Number(process.hrtime.bigint() - started) / 1e6 >= TRANSACTION_TIMEOUT_MS)
        await this.#replaceProducer(err);
      if (!fenced && (this.#unusable !== undefined || (isRdkafkaError(err) && err.isFatal)))
        await this.#replaceProducer(err);
      if (!fenced) await this.#abort(err);
      throw err;
    }
  }

  /**
   * Commits the open transaction. A commit that times out (the broker is down or frozen) goes on in
   * librdkafka's background and is resumed by calling commit again (rdkafka.h: "resumable"); an
   * abort is refused (ERR__CONFLICT, "commit_transaction API call is already in progress") for as
   * long as that commit is pending, so aborting instead retried the abort forever. A retriable
   * commit error therefore pauses and resumes the commit; an abortable or fatal one is thrown, and
   * the caller aborts.
   */
  async #commit(producer: Producer): Promise<void> {
    const delays = new Delays(this.#o.retry);
    for (;;) {
      try {
        await call((cb) => producer.commitTransaction(TRANSACTION_TIMEOUT_MS, cb));
        return;
      } catch (err) {
        if (!isResumable(err) || this.#o.stopping()) throw err;
        const delay = delays.next();
        const error = new PhiGateError(
          'PHIGATE_ERR_BROKER',
          `the transaction commit did not complete (${(err as Error).message}); resuming it`,
          { cause: err },
        );
        reportPause(this.#o.logger, this.#o.metrics, error, delays.attempt, delay);
        await sleep(delay);
      }
    }
  }

  /**
   * Aborts the open transaction. librdkafka asks for a retry when the abort itself fails retriably
   * (the broker is down): it is retried with back-off, so that an outage pauses the stream instead
   * of ending the instance. An abort that fails otherwise leaves the producer unusable: fatal.
   */
  async #abort(cause: unknown): Promise<void> {
    const delays = new Delays(this.#o.retry);
    for (;;) {
      try {
        await call((cb) => this.#producer.abortTransaction(OPERATION_TIMEOUT_MS, cb));
        return;
      } catch (err) {
        const retriable = isRdkafkaError(err) && (err.isRetriable === true || err.code === CODE.TIMED_OUT);
        if (this.#o.stopping()) {
          throw new PhiGateError('PHIGATE_ERR_KAFKA_FATAL', 'a failed transaction could not be aborted', {
            cause: err,
          });
        }
        // a producer that cannot abort is replaced: initialising its id aborts the transaction
        if (!retriable) await this.#replaceProducer(cause);
        const delay = delays.next();
        this.#o.logger.warn(
          {
            attempt: delays.attempt,
            retryInMs: delay,
            code: isRdkafkaError(err) ? err.code : undefined,
            reason: (err as Error).message,
          },
          'transaction abort failed; will retry',
        );
        await sleep(delay);
      }
    }
  }

  /**
   * Queues a topic's records in order: each run of records without headers in one `produceBatch`
   * call, a record with headers on its own (the batch call takes none). Where the client's queue is
   * full, it waits for room and goes on from the first record not queued; any other refusal is
   * thrown as `produce` throws it, by producing that record on its own.
   */
  async #produceAll(producer: Producer, topic: string, messages: readonly OutMessage[]): Promise<void> {
    const batch = batchProducer(producer);
    if (batch === undefined) {
      for (const m of messages) await this.#produceOne(producer, topic, m);
      return;
    }
    let from = 0;
    while (from < messages.length) {
      let to = from;
      while (to < messages.length && messages[to]?.headers === undefined) to++;
      if (to === from) {
        await this.#produceOne(producer, topic, messages[from] as OutMessage);
        from += 1;
        continue;
      }
      const run = messages.slice(from, to);
      const values = run.map((m) => m.value);
      const keys = run.map((m) => m.key);
      const partitions = run.some((m) => m.partition !== undefined)
        ? Int32Array.from(run, (m) => m.partition ?? -1)
        : null;
      let done = 0;
      while (done < run.length) {
        const [queued, code] = batch.produceBatch(
          topic,
          done === 0 ? values : values.slice(done),
          done === 0 ? keys : keys.slice(done),
          partitions === null || done === 0 ? partitions : partitions.subarray(done),
        );
        done += queued;
        if (code === 0) break;
        if (code === CODE.QUEUE_FULL) await sleep(5);
        else {
          // the client's own error for that record (or, should it pass now, the record queued)
          await this.#produceOne(producer, topic, run[done] as OutMessage);
          done += 1;
        }
      }
      from = to;
    }
  }

  /** Queues one record; false when the client's queue is full. */
  #produce(producer: Producer, topic: string, m: OutMessage): boolean {
    const headers =
      m.headers === undefined ? undefined : Object.entries(m.headers).map(([name, v]) => ({ [name]: v }));
    try {
      producer.produce(topic, m.partition ?? null, m.value, m.key, undefined, undefined, headers);
      return true;
    } catch (err) {
      if (isRdkafkaError(err) && err.code === CODE.QUEUE_FULL) return false;
      throw err;
    }
  }

  /** Queues one record, waiting for room while the client's queue is full. */
  async #produceOne(producer: Producer, topic: string, m: OutMessage): Promise<void> {
    while (!this.#produce(producer, topic, m)) await sleep(5);
  }
}

/** The client binding's batch call, which phi-gate's build of the client has (deploy/local/deps.sh). */
interface BatchProducer {
  /** Queues records of one topic in order; [how many were queued, the error code of the next one or 0]. */
  produceBatch(
    topic: string,
    values: readonly (Buffer | null)[],
    keys: readonly (Buffer | string | null)[],
    partitions: Int32Array | null,
  ): [number, number];
}

/** The producer's binding, when it has the batch call (a client built without the patch has not). */
function batchProducer(producer: Producer): BatchProducer | undefined {
  const binding = (producer as unknown as { _client?: Partial<BatchProducer> })._client;
  return typeof binding?.produceBatch === 'function' ? (binding as BatchProducer) : undefined;
}

/** A retriable error of a resumable transactional call: calling it again resumes it. */
function isResumable(err: unknown): boolean {
  return (
    isRdkafkaError(err) &&
    err.isFatal !== true &&
    err.isTxnRequiresAbort !== true &&
    (err.isRetriable === true || err.code === CODE.TIMED_OUT)
  );
}
