/**
 * Exactly once as a downstream consumer sees it: a destination topic is read back with
 * isolation.level=read_committed, and every expected messageId must be there once — none missing,
 * none twice, nothing else — with each key's records in the order their events were sent.
 */
import assert from 'node:assert/strict';
import { consumeAll } from './consume.ts';
import { type DestinationTopics, segmentEvent, type TestEvent } from './pipeline.ts';
import { registry } from './stack.ts';

/** What one destination received against what it should have. */
export interface Tally {
  readonly topic: string;
  readonly received: number;
  /** Expected ids that never arrived. */
  readonly missing: readonly string[];
  /** Ids that arrived more than once, with where each copy sits (`partition@offset`). */
  readonly duplicated: readonly (readonly [id: string, at: readonly string[]])[];
  /** Records whose id was not expected at all. */
  readonly unexpected: number;
  /**
   * Records that arrived after one sent later with the same key ("id after id"): a key's records
   * keep the order of `expected`, the order the events were sent in. Records without a key are not
   * checked (a destination that drops the key keeps the input partition's order instead).
   */
  readonly outOfOrder: readonly string[];
  /** Keys with more than one record: how much the order check saw. */
  readonly repeatedKeys: number;
}

export interface ReadOptions {
  /** How long to wait for every expected record (default 60 s). */
  readonly timeoutMs?: number;
  /** Default: the shared broker (KAFKA_BROKERS). */
  readonly brokers?: readonly string[];
}

/** Reads a destination back (read_committed) and counts missing and duplicated messageIds. */
export async function tally(
  topic: string,
  expected: readonly string[],
  options: ReadOptions = {},
): Promise<Tally> {
  const records = await consumeAll(topic, {
    count: expected.length,
    timeoutMs: options.timeoutMs ?? 60_000,
    settleMs: 1500,
    brokers: options.brokers,
  });
  const reg = registry();
  const ids = await Promise.all(
    records.map(async (r) => (await reg.decode(r.message.value as Buffer)).messageId as string),
  );
  const placements = new Map<string, string[]>();
  ids.forEach((id, i) => {
    const r = records[i] as (typeof records)[number];
    placements.set(id, [...(placements.get(id) ?? []), `${r.partition}@${r.message.offset}`]);
  });
  const wanted = new Set(expected);
  return {
    topic,
    received: ids.length,
    missing: expected.filter((id) => !placements.has(id)),
    duplicated: [...placements].filter(([, at]) => at.length > 1),
    unexpected: [...placements.keys()].filter((id) => !wanted.has(id)).length,
    ...keyOrder(records, ids, expected),
  };
}

/** Per key (in its partition): whether the records' ids come in the order of `expected`. */
function keyOrder(
  records: readonly { partition: number; message: { key: Buffer | null; offset: string } }[],
  ids: readonly string[],
  expected: readonly string[],
): { outOfOrder: string[]; repeatedKeys: number } {
  const sent = new Map(expected.map((id, i) => [id, i]));
  const inLogOrder = records
    .map((r, i) => ({ r, id: ids[i] as string }))
    .sort(
      (a, b) =>
        a.r.partition - b.r.partition || Number(BigInt(a.r.message.offset) - BigInt(b.r.message.offset)),
    );
  const last = new Map<string, { id: string; at: number; count: number }>();
  const outOfOrder: string[] = [];
  for (const { r, id } of inLogOrder) {
    const at = sent.get(id);
    if (r.message.key === null || at === undefined) continue;
    const key = `${r.partition}/${r.message.key.toString('hex')}`;
    const before = last.get(key);
    const late = before !== undefined && before.at > at;
    if (late) outOfOrder.push(`${id} after ${before.id}`);
    // the latest-sent record so far stays the one later records are compared with (and named)
    last.set(
      key,
      late ? { ...before, count: before.count + 1 } : { id, at, count: (before?.count ?? 0) + 1 },
    );
  }
  return { outOfOrder, repeatedKeys: [...last.values()].filter((k) => k.count > 1).length };
}

/** One line for a test's diagnostics: counts only (test ids are made up, but there may be many). */
export function summary(t: Tally): string {
  return `${t.topic}: received ${t.received}, lost ${t.missing.length}, duplicated ${t.duplicated.length}, unexpected ${t.unexpected}`;
}

/** Fails unless every expected messageId arrived exactly once and nothing else did. */
export function assertTally(t: Tally, expected: number): void {
  assert.deepEqual(
    { missing: t.missing.length, duplicated: t.duplicated.length },
    { missing: 0, duplicated: 0 },
    // test ids only (made-up events): where each copy sits tells a replayed transaction (same
    // partition, one batch apart) from an id that was rewritten
    `${t.topic}: exactly once; missing ${t.missing.slice(0, 20).join(' ')}; duplicated ${t.duplicated
      .slice(0, 10)
      .map(([id, at]) => `${id} at ${at.join(',')}`)
      .join('; ')}`,
  );
  assert.equal(t.unexpected, 0, `${t.topic}: no record that was not expected`);
  assert.equal(t.received, expected, `${t.topic}: no extra records`);
  assert.deepEqual(
    t.outOfOrder.slice(0, 10),
    [],
    `${t.topic}: each key's records in the order they were sent`,
  );
}

/** The order check of a tally saw keys with several records: it cannot pass by seeing none. */
export function assertKeysRepeated(t: Tally): void {
  assert.ok(t.repeatedKeys > 0, `${t.topic}: the order check saw keys with several records`);
}

/** Reads a destination back and checks every expected messageId arrived exactly once. */
export async function assertExactlyOnce(
  topic: string,
  expected: readonly string[],
  timeoutMs = 60_000,
  options: Omit<ReadOptions, 'timeoutMs'> = {},
): Promise<Tally> {
  const t = await tally(topic, expected, { ...options, timeoutMs });
  assertTally(t, expected.length);
  return t;
}

/** The first read waits longest: it covers the time the service still needs to catch up. */
export async function assertEveryDestinationExactlyOnce(
  names: DestinationTopics,
  ids: readonly string[],
  options: Omit<ReadOptions, 'timeoutMs'> = {},
): Promise<Tally[]> {
  return [
    await assertExactlyOnce(names.warehouse, ids, 90_000, options),
    await assertExactlyOnce(names.mixpanel, ids, 60_000, options),
    await assertExactlyOnce(names.ads, ids, 60_000, options),
  ];
}

/**
 * Events every destination receives (booked passes all three policies). Each has a user of its own;
 * with `users`, event i belongs to user i % users, so each user's events share a key whose order the
 * destinations must keep.
 */
export function bookedEvents(n: number, from = 0, users?: number): TestEvent[] {
  return Array.from({ length: n }, (_, i) =>
    segmentEvent('booked', users === undefined ? from + i : (from + i) % users),
  );
}
