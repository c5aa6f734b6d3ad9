/**
 * Content hashes that name a policy and each destination's rules. Canonical JSON (object keys
 * sorted, arrays in order) so that YAML key order and formatting never change a version.
 */
import { createHash } from 'node:crypto';

/**
 * Bumped when the engine changes what the same policy does to data. 2: card, SSN and phone
 * detectors need a non-alphanumeric boundary; cards need a network's IIN, length and layout.
 */
export const ENGINE_VERSION = 'phi-gate-policy/2';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** 16 lowercase hex chars (64 bits) of SHA-256 over the canonical JSON. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}
