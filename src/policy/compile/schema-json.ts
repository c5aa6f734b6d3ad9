/**
 * Helpers over derived Avro schemas in JSON form. While compiling, every node carries a full
 * definition of its named types (so that any subtree is a standalone schema); `dedupeNamed` turns
 * the repeats into references at the end.
 */
import { bucketOfType } from '../../avro/buckets.ts';
import { PhiGateError } from '../../errors.ts';

export type Schema = string | SchemaObject | Schema[];
export interface SchemaObject {
  readonly type: string;
  readonly [key: string]: unknown;
}

const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

function planError(message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_PLAN', message);
}

export function branchesOf(s: Schema): Schema[] {
  return Array.isArray(s) ? s : [s];
}

/** `["null", T]` (null first, so that `"default": null` is valid); a nullable union is reordered, never doubled. */
export function optional(s: Schema): Schema {
  const branches = branchesOf(s);
  const rest = branches.filter((b) => b !== 'null');
  return ['null', ...rest];
}

/** The value bucket avsc uses to decide whether a union can be unwrapped (lib/types.js getTypeBucket). */
export function bucketOf(s: Schema): string {
  return bucketOfType(typeof s === 'string' ? s : Array.isArray(s) ? 'union' : s.type);
}

/** avsc with `wrapUnions: 'auto'` wraps a union exactly when two branches share a bucket. */
export function isAmbiguous(branches: readonly Schema[]): boolean {
  const seen = new Set<string>();
  for (const b of branches) {
    const bucket = bucketOf(b);
    if (seen.has(bucket)) return true;
    seen.add(bucket);
  }
  return false;
}

/** The key of a branch in a wrapped union value (avsc Type#branchName). */
export function branchNameOf(s: Schema): string {
  if (typeof s === 'string') return s;
  if (Array.isArray(s)) throw planError('a union cannot directly contain a union');
  return NAMED.has(s.type) ? (s.name as string) : s.type;
}

/** Identity of a branch inside a union: two branches with the same key cannot coexist. */
function branchKey(s: Schema): string {
  if (typeof s === 'string') return s;
  if (Array.isArray(s)) throw planError('a union cannot directly contain a union');
  return NAMED.has(s.type) ? `named:${String(s.name)}` : s.type;
}

function mergeSame(a: Schema, b: Schema): Schema {
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  if (typeof a === 'string' || typeof b === 'string' || Array.isArray(a) || Array.isArray(b)) {
    // Same primitive with and without a logical annotation: the plain type covers both.
    return typeof a === 'string' ? a : typeof b === 'string' ? b : (a as SchemaObject).type;
  }
  switch (a.type) {
    case 'record':
    case 'error': {
      const fa = a.fields as { name: string; type: Schema }[];
      const fb = b.fields as { name: string; type: Schema }[];
      const byName = new Map(fb.map((f) => [f.name, f]));
      const fields = fa.map((f) => {
        const other = byName.get(f.name);
        return other === undefined
          ? f
          : { name: f.name, type: optional(mergeSchemas(f.type, other.type)), default: null };
      });
      const names = new Set(fa.map((f) => f.name));
      for (const f of fb) if (!names.has(f.name)) fields.push(f);
      return { ...a, fields };
    }
    case 'enum': {
      const symbols = [...(a.symbols as string[])];
      for (const s of b.symbols as string[]) if (!symbols.includes(s)) symbols.push(s);
      return { ...a, symbols };
    }
    case 'array':
      return { type: 'array', items: mergeSchemas(a.items as Schema, b.items as Schema) };
    case 'map':
      return { type: 'map', values: mergeSchemas(a.values as Schema, b.values as Schema) };
    case 'fixed':
      throw planError(`fixed type ${String(a.name)} has two different definitions`);
    default:
      return a.type;
  }
}

/**
 * The smallest schema both `a` and `b` resolve into (Avro schema resolution): union of the
 * branches, same-kind branches merged (record fields united, all optional). Null goes first.
 */
export function mergeSchemas(a: Schema, b: Schema): Schema {
  const out: Schema[] = [];
  const index = new Map<string, number>();
  for (const s of [...branchesOf(a), ...branchesOf(b)]) {
    const key = branchKey(s);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(s);
    } else {
      out[at] = mergeSame(out[at] as Schema, s);
    }
  }
  const nullAt = out.indexOf('null');
  if (nullAt > 0) out.unshift(...out.splice(nullAt, 1));
  return out.length === 1 ? (out[0] as Schema) : out;
}

/** Replaces every repeated definition of a named type by its name (Avro defines a name once). */
export function dedupeNamed(s: Schema, seen: Map<string, string> = new Map()): Schema {
  if (typeof s === 'string') return s;
  if (Array.isArray(s)) return s.map((b) => dedupeNamed(b, seen));
  if (NAMED.has(s.type)) {
    const name = s.name as string;
    const json = JSON.stringify(s);
    const prev = seen.get(name);
    if (prev !== undefined) {
      if (prev !== json) throw planError(`derived type ${name} would have two different definitions`);
      return name;
    }
    seen.set(name, json);
    if (s.type === 'record' || s.type === 'error') {
      const fields = (s.fields as { name: string; type: Schema }[]).map((f) => ({
        ...f,
        type: dedupeNamed(f.type, seen),
      }));
      return { ...s, fields };
    }
    return s;
  }
  if (s.type === 'array') return { ...s, items: dedupeNamed(s.items as Schema, seen) };
  if (s.type === 'map') return { ...s, values: dedupeNamed(s.values as Schema, seen) };
  return s;
}
