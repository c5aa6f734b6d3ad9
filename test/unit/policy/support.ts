/** Shared helpers for the policy tests: policies from inline YAML, the reference schema, records from natural JSON. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { decryptValue, loadPrivateKey } from '../../../src/crypto/index.ts';
import { fromNaturalJson, parsePolicy } from '../../../src/policy/index.ts';
import type { Destination, Plan, Policy } from '../../../src/policy/types.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = join(here, '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'policy');
export const KEYS = join(FIXTURES, 'keys');

/** 40 bytes, the HMAC key every inline test policy uses through `hashKey: { env: HK }`. */
export const TEST_ENV: Readonly<Record<string, string>> = Object.freeze({
  HK: 'test-only-hmac-key-0123456789abcdefghijklmno',
});

export function policyFrom(yaml: string, env: Record<string, string | undefined> = TEST_ENV): Policy {
  return parsePolicy(yaml, { baseDir: KEYS, env });
}

/** A one-destination policy named `d`; `body` is the destination's YAML (indented by 4). */
export function destinationFrom(body: string, extra = ''): Destination {
  const policy = policyFrom(`version: 1\n${extra}\ndestinations:\n  d:\n    hashKey: { env: HK }\n${body}`);
  return policy.destinations[0] as Destination;
}

export const SEGMENT_SCHEMA: unknown = JSON.parse(
  readFileSync(join(ROOT, 'schemas', 'segment-event.avsc'), 'utf8'),
);
export const SEGMENT_TYPE = avro.Type.forSchema(SEGMENT_SCHEMA as avro.Schema, { wrapUnions: 'auto' });

export function typeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
}

/** A Segment record from natural JSON (missing optional fields allowed). */
export function segment(event: Record<string, unknown>): unknown {
  return fromNaturalJson(
    SEGMENT_TYPE,
    { messageId: 'msg-1', type: 'track', timestamp: 1_700_000_000_000, ...event },
    SEGMENT_SCHEMA,
  );
}

/** Applies and asserts delivery; returns the value and the plan's decision. */
export function deliver(
  plan: Plan,
  record: unknown,
): { value: Record<string, unknown>; fields: Readonly<Record<string, string>> } {
  const r = plan.apply(record);
  if (r.outcome !== 'delivered')
    throw new Error(`expected delivered, got ${r.outcome} (${r.decision.errorCode})`);
  if (!plan.type.isValid(r.value)) throw new Error('plan output is not valid for the derived type');
  return { value: r.value as Record<string, unknown>, fields: r.decision.fields };
}

/** Natural JSON of a delivered value, parsed back (unions unwrapped). */
export function natural(plan: Plan, record: unknown): Record<string, unknown> {
  const { value } = deliver(plan, record);
  return JSON.parse(plan.toJson(value)) as Record<string, unknown>;
}

export function decrypt(value: string, keyFile = 'TEST-ONLY-rsa-2048.key.pem'): string {
  return decryptValue(value, loadPrivateKey(join(KEYS, keyFile)));
}

/** Every string anywhere inside a value (for leak checks). */
export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Buffer.isBuffer(value)) out.push(value.toString('latin1'));
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allStrings(v, out);
    }
  }
  return out;
}
