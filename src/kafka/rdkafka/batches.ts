/**
 * The librdkafka engine's batches: one consume call's messages per partition, the batches of one
 * transaction as one, and their steps' results as one.
 */
import type { Message } from '@confluentinc/kafka-javascript';
import type { InputRecord } from '../../pipeline/records.ts';
import { combineResults, type PartitionBatch, type StepResult } from '../../pipeline/step.ts';
import { toRecord } from './client.ts';

/**
 * The steps of a transaction's batches as one result; when one failed, the others are abandoned
 * (their claims released) and its error is the result's.
 */
export async function settleAll(attempts: readonly Promise<StepResult>[]): Promise<StepResult> {
  if (attempts.length === 1) return attempts[0] as Promise<StepResult>;
  const settled = await Promise.allSettled(attempts);
  const failed = settled.find((r) => r.status === 'rejected');
  const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed !== undefined) {
    for (const r of results) r.abandoned();
    throw failed.reason;
  }
  return combineResults(results);
}

/** A partition as a map key. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Records appended per partition, each partition's in the order appended. */
class ByPartition {
  readonly #batches = new Map<string, { topic: string; partition: number; records: InputRecord[] }>();

  add(topic: string, partition: number, record: InputRecord): void {
    const id = partitionKey(topic, partition);
    let batch = this.#batches.get(id);
    if (batch === undefined) {
      batch = { topic, partition, records: [] };
      this.#batches.set(id, batch);
    }
    batch.records.push(record);
  }

  batches(): PartitionBatch[] {
    return [...this.#batches.values()];
  }
}

/** Consumed batches as one: each partition's records in offset order (a retry steps through them again). */
export function concatBatches(group: readonly PartitionBatch[][]): PartitionBatch[] {
  if (group.length === 1) return group[0] as PartitionBatch[];
  const out = new ByPartition();
  for (const batches of group)
    for (const { topic, partition, records } of batches)
      for (const r of records) out.add(topic, partition, r);
  return out.batches();
}

/** Messages of one consume call, grouped per partition in offset order. */
export function batchesOf(messages: readonly Message[]): PartitionBatch[] {
  const out = new ByPartition();
  for (const m of messages) out.add(m.topic, m.partition, toRecord(m));
  return out.batches();
}
