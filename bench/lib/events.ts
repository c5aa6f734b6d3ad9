/**
 * Bench input: the example events of deploy/examples/events (Segment spec, natural JSON) converted
 * once to Avro values of schemas/segment-event.avsc; each generated event is one of them in turn
 * with its own messageId, a made-up userId/anonymousId (so keys spread over partitions) and the
 * send time in `timestamp`. Values are framed in the Confluent wire format.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { frame, frameHeader } from '../../src/pipeline/wire.ts';
import { fromNaturalJson, packageRoot } from '../../src/policy/index.ts';
import { compileType } from '../../src/registry/schemas.ts';

export const root = packageRoot();
export const schemaText = readFileSync(join(root, 'schemas', 'segment-event.avsc'), 'utf8');
const schema = JSON.parse(schemaText);
const type = compileType(schema);

const templates = readdirSync(join(root, 'deploy', 'examples', 'events'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map(
    (f) =>
      fromNaturalJson(
        type,
        JSON.parse(readFileSync(join(root, 'deploy', 'examples', 'events', f), 'utf8')),
        schema,
      ) as Record<string, unknown>,
  );

export class EventFactory {
  readonly #header: Buffer;
  readonly #prefix: string;

  constructor(schemaId: number, prefix: string) {
    this.#header = frameHeader(schemaId);
    this.#prefix = prefix;
  }

  /** Event number `i`, stamped with `now` (ms since the epoch). */
  message(i: number, now: number): Message {
    const t = templates[i % templates.length] as Record<string, unknown>;
    const user = `user-${10_000 + (i % 7919)}`; // made-up ids
    const value: Record<string, unknown> = { ...t, messageId: `${this.#prefix}-${i}`, timestamp: now };
    if (typeof t.userId === 'string') value.userId = user;
    if (typeof t.anonymousId === 'string') value.anonymousId = `anon-${(i % 7919).toString(16)}`;
    const key = (value.userId ?? value.anonymousId) as string;
    return { key, value: frame(this.#header, type.toBuffer(value)) };
  }
}

/** Mean size in bytes of a framed event (the record size given to the broker's own tools). */
export function meanEventBytes(): number {
  const f = new EventFactory(1, 'size-probe');
  let sum = 0;
  for (let i = 0; i < templates.length; i++) sum += (f.message(i, Date.now()).value as Buffer).length;
  return Math.round(sum / templates.length);
}
