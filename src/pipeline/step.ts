/**
 * The batch step, the pipeline's whole contract with a Kafka engine (src/kafka/):
 *
 *   input records of one or more partitions  →  every output record of one transaction
 *                                               (destination records, audit entries, dead letters)
 *
 * Nothing is sent here. The engine writes `outputs` and the input offsets in one transaction, then
 * calls `committed()` — or `abandoned()` when that transaction did not commit, so that nothing this
 * step counted as written is lost (the policy audit entries and the inventory entries are claimed
 * again by a later batch).
 * A thrown PhiGateError says what the engine must do (its catalogue disposition): `pause` errors are
 * retried with the same records, anything else ends the instance.
 */
import type { Metrics } from '../observability/metrics.ts';
import type { Destination, Policy } from '../policy/index.ts';
import { type BatchContext, processBatch } from './process.ts';
import type { InputRecord, TopicMessages } from './records.ts';

export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** In offset order; the transaction commits the offset after the last one. */
  readonly records: readonly InputRecord[];
}

/** What the step needs of the policy source (PolicySource, or a fixed policy in the test driver). */
export interface PolicyView {
  readonly current: Policy;
  claimAudit(): readonly Destination[];
  auditWritten(written: readonly Destination[]): void;
  auditAbandoned(claimed: readonly Destination[]): void;
}

export interface StepResult {
  readonly outputs: readonly TopicMessages[];
  /** The transaction holding `outputs` committed. */
  committed(): void;
  /** It did not: the records will be processed again, by this instance or the next owner. */
  abandoned(): void;
}

export class BatchStep {
  readonly #context: BatchContext;
  readonly #policy: PolicyView;
  readonly #metrics: Metrics;

  constructor(context: BatchContext, policy: PolicyView) {
    this.#context = context;
    this.#policy = policy;
    this.#metrics = context.metrics;
  }

  /** The run before the next one: runs go one at a time, in the order they were asked for. */
  #previous: Promise<unknown> = Promise.resolve();

  /**
   * Processes the batches once the runs asked for before have ended. The step yields to the event
   * loop while it works (process.ts); one at a time, the batch an engine needs first — the one
   * whose transaction is next — ends first, instead of sharing the thread with the batches behind it.
   */
  run(batches: readonly PartitionBatch[]): Promise<StepResult> {
    const run = this.#previous.then(() => this.#run(batches));
    this.#previous = run.catch(() => undefined);
    return run;
  }

  async #run(batches: readonly PartitionBatch[]): Promise<StepResult> {
    const started = process.hrtime.bigint();
    const ctx = this.#context;
    const policy = this.#policy.current; // captured once: a reload takes effect at the next batch
    const outputs: TopicMessages[] = [];
    const counts: ((metrics: Metrics) => void)[] = [];
    for (const { topic, partition, records } of batches) {
      if (records.length === 0) continue;
      const out = await processBatch(ctx, policy, { topic, partition }, records);
      merge(outputs, out.topicMessages);
      counts.push(out.count);
    }
    // before any claim: a registry that does not answer here pauses the batch with nothing claimed
    const inventory = ctx.inventory === undefined ? undefined : await ctx.inventory.claim(policy);
    if (inventory !== undefined && inventory.messages.length > 0)
      merge(outputs, [{ topic: inventory.topic, messages: [...inventory.messages] }]);
    const claimed = this.#policy.claimAudit();
    if (claimed.length > 0) {
      const now = ctx.now();
      merge(outputs, [{ topic: ctx.auditTopic, messages: claimed.map((d) => ctx.audit.policy(d, now)) }]);
    }
    let settled = false;
    return {
      outputs,
      committed: () => {
        if (settled) return;
        settled = true;
        this.#policy.auditWritten(claimed);
        if (inventory !== undefined) ctx.inventory?.written(inventory);
        // counted once committed: a batch processed again after an abort is not counted twice
        for (const count of counts) count(this.#metrics);
        this.#observe(batches, started);
      },
      abandoned: () => {
        if (settled) return;
        settled = true;
        this.#policy.auditAbandoned(claimed);
        if (inventory !== undefined) ctx.inventory?.abandoned(inventory);
      },
    };
  }

  #observe(batches: readonly PartitionBatch[], started: bigint): void {
    const metrics = this.#metrics;
    const now = Date.now();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const { topic, records } of batches) {
      if (records.length === 0) continue;
      metrics.eventsConsumed.inc({ topic }, records.length);
      metrics.batchSize.observe(records.length);
      metrics.batchDuration.observe(seconds);
      for (const r of records) metrics.endToEndLatency.observe(Math.max(0, now - Number(r.timestamp)) / 1000);
    }
  }
}

/**
 * One result for the steps of several batches that commit in one transaction: their outputs in
 * batch order (each topic's records in order), committed or abandoned together.
 */
export function combineResults(results: readonly StepResult[]): StepResult {
  if (results.length === 1) return results[0] as StepResult;
  const outputs: TopicMessages[] = [];
  for (const r of results) merge(outputs, r.outputs, true);
  return {
    outputs,
    committed: () => {
      for (const r of results) r.committed();
    },
    abandoned: () => {
      for (const r of results) r.abandoned();
    },
  };
}

/**
 * Appends `more` to `into`, one entry per topic, keeping each topic's order. A topic new to `into`
 * takes over `more`'s array unless `copy` (the arrays of a result handed out stay as they were).
 */
function merge(into: TopicMessages[], more: readonly TopicMessages[], copy = false): void {
  for (const t of more) {
    const existing = into.find((x) => x.topic === t.topic);
    if (existing === undefined)
      into.push({ topic: t.topic, messages: copy ? t.messages.slice() : t.messages });
    else for (const m of t.messages) existing.messages.push(m); // no spread: batches may be large
  }
}
