/**
 * Exactly once as a downstream consumer sees it: a destination topic is read back with
 * isolation.level=read_committed, and every expected messageId must be there once — none missing,
 * none twice, nothing else.
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
  };
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

/** Events every destination receives (booked passes all three policies). */
export function bookedEvents(n: number, from = 0): TestEvent[] {
  return Array.from({ length: n }, (_, i) => segmentEvent('booked', from + i));
}
