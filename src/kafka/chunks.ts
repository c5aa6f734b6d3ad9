/**
 * How a fetched batch becomes transactions: consecutive chunks of at most `max` records, in order
 * (PHIGATE_BATCH_MAX_RECORDS bounds one transaction, not one fetch). Shared by the kafkajs engine
 * and the unit-test driver (test/helpers/driver.ts), so that the tests chunk exactly as it does.
 * Lazy: an engine that gives a batch up part-way does not copy the rest of it.
 */
export function* chunksOf<T>(records: readonly T[], max: number): Generator<T[], void, undefined> {
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`chunk size must be a positive integer, not ${max}`);
  for (let i = 0; i < records.length; i += max) yield records.slice(i, i + max);
}

/**
 * The records at or above `committed`, the group's committed offset: what is left to process of a
 * batch whose last commit had an outcome the client could not know (its answer was lost or
 * garbled), or that a previous owner may have committed part of.
 */
export function uncommitted<T extends { readonly offset: string }>(
  records: readonly T[],
  committed: bigint,
): T[] {
  const first = records.findIndex((r) => BigInt(r.offset) >= committed);
  return first < 0 ? [] : first === 0 ? (records as T[]) : records.slice(first);
}
