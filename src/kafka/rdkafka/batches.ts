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

/** Consumed batches as one: each partition's records in offset order (a retry steps through them again). */
export function concatBatches(group: readonly PartitionBatch[][]): PartitionBatch[] {
  if (group.length === 1) return group[0] as PartitionBatch[];
  const byPartition = new Map<string, { topic: string; partition: number; records: InputRecord[] }>();
  for (const batches of group) {
    for (const { topic, partition, records } of batches) {
      const id = `${topic}\u0000${partition}`;
      let batch = byPartition.get(id);
      if (batch === undefined) {
        batch = { topic, partition, records: [] };
        byPartition.set(id, batch);
      }
      for (const r of records) batch.records.push(r);
    }
  }
  return [...byPartition.values()];
}

/** Messages of one consume call, grouped per partition in offset order. */
export function batchesOf(messages: readonly Message[]): PartitionBatch[] {
  const byPartition = new Map<string, { topic: string; partition: number; records: InputRecord[] }>();
  for (const m of messages) {
    const id = `${m.topic}\u0000${m.partition}`;
    let batch = byPartition.get(id);
    if (batch === undefined) {
      batch = { topic: m.topic, partition: m.partition, records: [] };
      byPartition.set(id, batch);
    }
    batch.records.push(toRecord(m));
  }
  return [...byPartition.values()];
}
