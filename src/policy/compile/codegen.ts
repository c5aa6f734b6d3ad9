/**
 * Small generated functions for the two shapes built per record: a derived record (one object
 * literal per record type, so V8 gives it a fixed hidden class instead of growing a dictionary) and
 * a decision's fields (the static entries as a literal, copied from V8's boilerplate). Generated
 * once per plan, from Avro field names (which avsc restricts to [A-Za-z_][A-Za-z0-9_]*) and from
 * JSON-quoted strings only; anything else falls back to a plain loop.
 */
import type { NodeFn } from './env.ts';

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names an object literal or a property read would treat specially. */
const SPECIAL = new Set(['__proto__', 'constructor', 'prototype']);

function plainName(name: string): boolean {
  return AVRO_NAME.test(name) && !SPECIAL.has(name);
}

/** (writer record) → { name_i: fns_i(writer[name_i]) }. */
export function recordBuilder(names: readonly string[], fns: readonly NodeFn[]): NodeFn {
  if (!names.every(plainName)) {
    const n = names.length;
    return (value) => {
      const v = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const name = names[i] as string;
        out[name] = (fns[i] as NodeFn)(v[name]);
      }
      return out;
    };
  }
  const props = names.map((name, i) => `${name}: f${i}(v.${name})`).join(', ');
  const params = names.map((_, i) => `f${i}`);
  return new Function(...params, `return function buildRecord(v) { return { ${props} }; };`)(
    ...fns,
  ) as NodeFn;
}

/** () → a fresh copy of `statics`, then `dynamic` entries assigned over it. */
export function fieldsBuilder(
  statics: Readonly<Record<string, string>>,
): (dynamic: Record<string, string>) => Record<string, string> {
  const entries = Object.entries(statics);
  if (entries.some(([k]) => SPECIAL.has(k))) {
    return (dynamic) => Object.assign({}, statics, dynamic);
  }
  const literal = entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ');
  return new Function(
    `return function buildFields(d) { const o = { ${literal} }; for (const k in d) o[k] = d[k]; return o; };`,
  )() as (dynamic: Record<string, string>) => Record<string, string>;
}
