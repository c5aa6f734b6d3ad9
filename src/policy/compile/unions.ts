/**
 * Unions are walked transparently: every branch is compiled at the union's own path. The derived
 * union holds the kept branches (identical derived branches merge: a hashed int and a hashed string
 * are both `string`), plus null when the writer had it or a branch was dropped (its values become
 * null). Writer values are dispatched to their branch as avsc represents them — wrapped
 * (`{ "Name": v }`) or unwrapped (by JavaScript type) — and re-wrapped when the derived union is
 * ambiguous, under the derived branch name.
 */
import { PhiGateError } from '../../errors.ts';
import type { Annotation } from './annotations.ts';
import { type AvroNode, dropped, IDENTITY, type Node, type NodeFn, type Position } from './env.ts';
import { branchNameOf, bucketOf, isAmbiguous, mergeSchemas, type Schema } from './schema-json.ts';

/** avsc's bucket of a runtime value (lib/types.js getValueBucket). */
export function valueBucket(v: unknown): string {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'object') {
    if (Array.isArray(v)) return 'array';
    if (Buffer.isBuffer(v)) return 'buffer';
  }
  return t;
}

/** avsc's bucket of a writer branch type. */
function typeBucket(type: AvroNode): string {
  return bucketOf(
    type.typeName === 'union:wrapped' || type.typeName === 'union:unwrapped' ? 'union' : type.typeName,
  );
}

const NULL_FN: NodeFn = () => null;

function unknownBranch(pos: Position): PhiGateError {
  return new PhiGateError(
    'PHIGATE_ERR_ACTION',
    `${pos.rel || '(root)'}: value matches no branch of its union`,
  );
}

export function compileUnion(
  type: AvroNode,
  pos: Position,
  _ann: Annotation,
  compileBranch: (branch: AvroNode, index: number) => Node,
): Node {
  const types = type.types ?? [];
  const wrappedIn = type.typeName === 'union:wrapped';
  const nodes = types.map((t, i) => (t.typeName === 'null' ? null : compileBranch(t, i)));
  const kept = nodes.filter((n): n is Node & { schema: Schema } => n !== null && n.schema !== null);
  const needsNull =
    types.some((t) => t.typeName === 'null') || nodes.some((n) => n !== null && n.schema === null);
  if (kept.length === 0) return dropped(pos.rel);

  let merged: Schema = needsNull ? 'null' : (kept[0] as { schema: Schema }).schema;
  for (const n of kept) merged = mergeSchemas(merged, n.schema);
  const derived = Array.isArray(merged) ? merged : [merged];
  for (const n of kept) {
    if (!derived.some((d) => JSON.stringify(d) === JSON.stringify(n.schema))) {
      throw new PhiGateError(
        'PHIGATE_ERR_PLAN',
        `${pos.rel || '(root)'}: union branches derive conflicting types`,
      );
    }
  }
  const wrappedOut = derived.length > 1 && isAmbiguous(derived);

  // One handler per writer branch: writer branch value → derived union value.
  const handlers: NodeFn[] = nodes.map((n) => {
    if (n === null || n.schema === null) return NULL_FN;
    if (!wrappedOut) return n.fn;
    const name = branchNameOf(n.schema);
    const f = n.fn;
    return (v) => ({ [name]: f(v) });
  });

  const entries = new Map<string, string>();
  for (const n of nodes) for (const [path, action] of n?.entries ?? []) entries.set(path, action);
  const nodeEntries = [...entries];
  const schema: Schema = derived.length === 1 ? (derived[0] as Schema) : derived;

  if (wrappedIn) {
    const byName = new Map<string, NodeFn>();
    for (const [i, t] of types.entries()) byName.set(t.branchName as string, handlers[i] as NodeFn);
    const fn: NodeFn = (value) => {
      if (value === null) return null;
      for (const k in value as Record<string, unknown>) {
        const h = byName.get(k);
        if (h === undefined) throw unknownBranch(pos);
        return h((value as Record<string, unknown>)[k]);
      }
      throw unknownBranch(pos);
    };
    return { schema, fn, identity: false, entries: nodeEntries };
  }

  const byBucket = new Map<string, NodeFn>();
  for (const [i, t] of types.entries()) byBucket.set(typeBucket(t), handlers[i] as NodeFn);
  const nonNull = types
    .map((t, i) => ({ t, h: handlers[i] as NodeFn }))
    .filter((x) => x.t.typeName !== 'null');
  const identity = !wrappedOut && nodes.every((n) => n === null || (n.schema !== null && n.identity));
  if (identity) return { schema, fn: IDENTITY, identity: true, entries: nodeEntries };
  if (nonNull.length === 1) {
    // The common `["null", T]`: one test, no lookup.
    const h = (nonNull[0] as { h: NodeFn }).h;
    return { schema, fn: (v) => (v === null ? null : h(v)), identity: false, entries: nodeEntries };
  }
  const fn: NodeFn = (value) => {
    const h = byBucket.get(valueBucket(value));
    if (h === undefined) throw unknownBranch(pos);
    return h(value);
  };
  return { schema, fn, identity: false, entries: nodeEntries };
}
