/**
 * Maps: keys are data, so an entry's rule depends on its key. The possible cases are still finite
 * and compiled up front — one variant per literal key that a pattern names at this position, one
 * for "any other key", and one for "any other key that a matcher flags". At run time each distinct
 * key is classified once (literal lookup, matcher, detectors on the key) and cached, bounded.
 *
 * The derived map's values are the merge of the variants' schemas (a union when entries can get
 * different output types); a variant whose shape differs from the merge is converted through Avro
 * schema resolution — rare (it needs per-key rules below a map of records), and correct by
 * construction.
 *
 * Decisions: map keys are data, so a decision never holds one. An entry's segment names the variant
 * that decided it — the literal key a rule names (`properties.extras.utm_source`: policy text, not
 * data), `*` for any other key, `<pii:<matcher>>` for any other key a matcher flags; a key that
 * value detectors flag gets `<flag:<kinds>>` appended (`<flag:email>` alone for any other key), and
 * under `redact` its entry is dropped as `<redact:<kinds>>`. Entries of one event that share a segment share its decision entries (a finding
 * in any of them is kept), so the entries are a function of the event's shape and their frozen
 * fields object is shared.
 */
import avro from 'avsc';
import { PhiGateError } from '../../errors.ts';
import { matchesPrefix } from '../paths.ts';
import type { Rule } from '../rules.ts';
import type { Annotation } from './annotations.ts';
import {
  type AvroNode,
  type CompileEnv,
  dropped,
  entryRel,
  type Node,
  type NodeFn,
  type Position,
} from './env.ts';
import { branchNameOf, dedupeNamed, isAmbiguous, mergeSchemas, type Schema } from './schema-json.ts';

type CompileNode = (
  env: CompileEnv,
  type: AvroNode,
  pos: Position,
  inherited: Rule,
  ann: Annotation,
  genericKeyHit?: boolean,
) => Node;

interface KeyDecision {
  /** null: the entry is dropped. */
  readonly node: Node | null;
  readonly convert: NodeFn;
  /** Display path of the entry relative to the map's own prefix; never holds the key itself. */
  readonly keyRel: string;
  /** Action recorded for a dropped entry. */
  readonly dropLabel: string;
  /** `flag:<kinds>` when detectors flag the key itself (flag mode), else null. */
  readonly keyFlag: string | null;
}

/** Converts a variant's value into the merged map-value schema. */
function converter(variant: Node & { schema: Schema }, merged: Schema): NodeFn {
  const f = variant.fn;
  const vJson = JSON.stringify(variant.schema);
  if (vJson === JSON.stringify(merged)) return f;
  const branches = Array.isArray(merged) ? merged : [merged];
  if (!Array.isArray(variant.schema) && branches.some((b) => JSON.stringify(b) === vJson)) {
    // The variant is one branch of the merged union: as is, or wrapped under its name.
    if (!isAmbiguous(branches)) return f;
    const name = branchNameOf(variant.schema);
    return (v) => ({ [name]: f(v) });
  }
  const from = avro.Type.forSchema(dedupeNamed(variant.schema) as avro.Schema, { wrapUnions: 'auto' });
  const to = avro.Type.forSchema(dedupeNamed(merged) as avro.Schema, { wrapUnions: 'auto' });
  let resolver: ReturnType<avro.Type['createResolver']>;
  try {
    resolver = to.createResolver(from);
  } catch (err) {
    throw new PhiGateError('PHIGATE_ERR_PLAN', 'map entries derive types that cannot be merged', {
      cause: err,
    });
  }
  return (v) => to.fromBuffer(from.toBuffer(f(v)), resolver);
}

export function compileMap(
  env: CompileEnv,
  type: AvroNode,
  pos: Position,
  rule: Rule,
  ann: Annotation,
  compileNode: CompileNode,
): Node {
  const depth = pos.steps.length;
  const literalKeys = new Set<string>();
  for (const fr of env.dest.fields) {
    const token = fr.pattern.tokens[depth];
    if (token?.kind === 'name' && matchesPrefix(fr.pattern, pos.steps, depth)) literalKeys.add(token.name);
  }
  const valuesType = type.valuesType as AvroNode;
  const valuesAnn = ann.values();
  const variant = (key: string | null, hit: boolean): Node =>
    compileNode(
      env,
      valuesType,
      { steps: [...pos.steps, { kind: 'key', key }], rel: '', atTop: false },
      rule,
      valuesAnn,
      hit,
    );
  const generic = variant(null, false);
  // Not traced: the inventory's `m.*` describes an ordinary key (a flagged key gets the pii rule).
  const tracing = env.trace.on;
  env.trace.on = false;
  let genericHit: Node;
  try {
    genericHit = variant(null, true);
  } finally {
    env.trace.on = tracing;
  }
  const literal = new Map<string, Node>();
  for (const k of [...literalKeys].sort()) literal.set(k, variant(k, false));

  const all = [generic, genericHit, ...literal.values()];
  const kept = all.filter((n): n is Node & { schema: Schema } => n.schema !== null);
  if (kept.length === 0) return dropped(pos.rel);
  let merged = (kept[0] as { schema: Schema }).schema;
  for (const n of kept) merged = mergeSchemas(merged, n.schema);
  const converters = new Map<Node, NodeFn>(kept.map((n) => [n, converter(n, merged)]));

  const mode = env.detectorMode;
  const scanner = env.scanner;
  const decide = (key: string): KeyDecision => {
    const named = literal.get(key);
    const matcher = named === undefined ? env.matchers.match(key) : null;
    const node = named ?? (matcher !== null ? genericHit : generic);
    const kinds: string[] = [];
    if (scanner !== null) scanner(key, (kind) => kinds.includes(kind) || kinds.push(kind));
    const flagged = kinds.length > 0;
    // one segment per (variant, key flag): entries sharing a segment get the same static actions
    const base = named !== undefined ? key : matcher !== null ? `<pii:${matcher}>` : '';
    const flag = flagged ? `<${mode}:${kinds.join(',')}>` : '';
    const segment = flagged && mode === 'redact' ? flag : base + flag || '*';
    const keyRel = entryRel(pos, segment);
    if (flagged && mode === 'redact') {
      return {
        node: null,
        convert: () => null,
        keyRel,
        dropLabel: `redact:${kinds.join(',')}`,
        keyFlag: null,
      };
    }
    const keep = node.schema === null ? null : node;
    return {
      node: keep,
      convert: keep === null ? () => null : (converters.get(keep) as NodeFn),
      keyRel,
      dropLabel: 'drop',
      keyFlag: flagged ? `flag:${kinds.join(',')}` : null,
    };
  };

  const cache = new Map<string, KeyDecision>();
  const limit = env.keyCacheLimit;
  const st = env.state;
  const fn: NodeFn = (value) => {
    const v = value as Record<string, unknown>;
    const saved = st.prefix;
    const out = Object.create(null) as Record<string, unknown>;
    for (const key in v) {
      let d = cache.get(key);
      if (d === undefined) {
        d = decide(key);
        if (cache.size >= limit) cache.clear();
        cache.set(key, d);
      }
      const full = saved + d.keyRel;
      if (d.node === null) {
        st.note(full, d.dropLabel);
        continue;
      }
      // the key's own flag first: note keeps the first action per path, findings merge into it
      if (d.keyFlag !== null) st.note(full, d.keyFlag);
      const entries = d.node.entries;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as readonly [string, string];
        st.note(full + e[0], e[1]);
      }
      st.prefix = full;
      out[key] = d.convert(v[key]);
      st.prefix = saved;
    }
    return out;
  };
  return { schema: { type: 'map', values: merged }, fn, identity: false, entries: [] };
}
