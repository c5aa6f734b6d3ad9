/**
 * read_committed on kafkajs, made correct: records of aborted transactions are hidden the way the Java
 * consumer hides them.
 *
 * A fetch answer lists the aborted transactions whose records it may hold, each as (producer id, first
 * offset), in the order their abort markers were written — not in order of first offset. kafkajs
 * (2.2.4, consumer/filterAbortedMessages.js) walks that list as if it were sorted, and activates at
 * most one aborted transaction per record. So when two producers' transactions interleave on one
 * partition and the later one is aborted first, or a fetch starts inside two aborted transactions, the
 * records of the other are handed to the application as if committed.
 *
 * phi-gate writes exactly that pattern: the kafkajs engine has one transactional producer per input
 * partition, and a zombie's open transactions — one per partition it held, each writing to every
 * destination partition — are aborted one by one when their partitions' new owner fences them. A
 * kafkajs reader of a destination topic then saw the zombie's aborted records next to the new owner's
 * committed ones (the kafkajs zombie test's "duplicates"), and the kafkajs engine would feed an input
 * topic's aborted records to the policy.
 *
 * The fix sorts the list by first offset and keeps every transaction that has begun at or before a
 * record active until its abort marker, as the Java consumer does. It runs where a Fetch answer is
 * decoded: each aborted record is marked as a control record, which kafkajs drops from `batch.messages`
 * while still counting its offset as consumed (so a fetch that held only aborted records moves on past
 * them), and the list is emptied, so kafkajs's own filter has nothing left to do.
 */
import { createRequire } from 'node:module';

/** The fields of a decoded kafkajs record this needs. */
export interface FetchedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

/** An abort marker's key: version 0, type 0 (ABORT); a commit marker's type is 1. */
function isAbortMarker(record: FetchedRecord): boolean {
  const key = record.key;
  return key !== null && key.length >= 4 && key.readInt16BE(2) === 0;
}

/**
 * The records of one fetched partition with those of aborted transactions marked as control records
 * (kafkajs then skips them). `records` are in offset order, as a fetch returns them.
 */
export function hideAborted<T extends FetchedRecord>(
  records: readonly T[],
  aborted: readonly AbortedTransaction[],
): T[] {
  if (aborted.length === 0) return records as T[];
  const pending = aborted
    .map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const open = new Set<string>();
  let next = 0;
  return records.map((record) => {
    const offset = BigInt(record.offset);
    for (let t = pending[next]; t !== undefined && t.firstOffset <= offset; t = pending[++next])
      open.add(t.producerId);
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord) {
      if (isAbortMarker(record)) open.delete(producerId);
      return record;
    }
    return inTransaction && open.has(producerId) ? { ...record, isControlRecord: true } : record;
  });
}

interface FetchPartition {
  abortedTransactions?: AbortedTransaction[];
  messages: FetchedRecord[];
}

interface FetchResponseModule {
  decode: (raw: Buffer) => Promise<{ responses: { partitions: FetchPartition[] }[] }>;
}

const require = createRequire(import.meta.url);
/** Fetch versions 4 to 11 (the ones kafkajs speaks) carry aborted transactions; each has its own module. */
const FETCH_VERSIONS = [4, 5, 6, 7, 8, 9, 10, 11] as const;
const modules = FETCH_VERSIONS.map(
  (v) => require(`kafkajs/src/protocol/requests/fetch/v${v}/response.js`) as FetchResponseModule,
);
const originals = modules.map((m) => m.decode);

/** Makes every kafkajs consumer in this process hide aborted records as the Java consumer does. Idempotent. */
export function fixAbortedFiltering(): void {
  modules.forEach((m, i) => {
    const decode = originals[i] as FetchResponseModule['decode'];
    m.decode = async (raw) => {
      const decoded = await decode(raw);
      for (const topic of decoded.responses)
        for (const p of topic.partitions) {
          if (!p.abortedTransactions?.length) continue;
          p.messages = hideAborted(p.messages, p.abortedTransactions);
          p.abortedTransactions = [];
        }
      return decoded;
    };
  });
}

/** Puts kafkajs's own decoders back (tests). */
export function restoreAbortedFiltering(): void {
  modules.forEach((m, i) => {
    m.decode = originals[i] as FetchResponseModule['decode'];
  });
}
