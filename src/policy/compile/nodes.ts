/**
 * The schema walk: each writer node becomes a Node — its derived schema and the closure that maps a
 * writer value to the derived value. All decisions (rules, matchers, union shapes, names) are taken
 * here, once; the closures only move values.
 *
 * Invariants: a derived record field is always `["null", …]` with default null (BACKWARD-safe);
 * a dropped union branch yields null; every closure returns a value valid for its derived schema
 * under avsc `wrapUnions: 'auto'`.
 */
import { PhiGateError } from '../../errors.ts';
import { createAllowString } from '../actions/allow.ts';
import { ITEMS_STEP, type PathStep } from '../paths.ts';
import { type Rule, ruleLabel } from '../rules.ts';
import type { Annotation } from './annotations.ts';
import { recordBuilder } from './codegen.ts';
import {
  type AvroNode,
  type CompileEnv,
  childPosition,
  dropped,
  IDENTITY,
  type Node,
  type NodeFn,
  type Position,
} from './env.ts';
import { compileMap } from './maps.ts';
import { resolveRule } from './resolve.ts';
import { compileUnion } from './unions.ts';

const PRIMITIVES = new Set(['boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

function planError(pos: Position, message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_PLAN', `${pos.rel || '(root)'}: ${message}`);
}

/** Derived schema of an allowed leaf: the writer's, with logical annotations when known. */
function leafSchema(type: AvroNode, ann: Annotation): Node['schema'] {
  const logical = ann.logical ?? {};
  if (type.typeName === 'enum') {
    const def = (type.schema() as { default?: unknown }).default;
    return {
      type: 'enum',
      name: type.name as string,
      symbols: [...(type.symbols ?? [])],
      ...(def === undefined ? {} : { default: def }),
    };
  }
  if (type.typeName === 'fixed')
    return { type: 'fixed', name: type.name as string, size: type.size as number, ...logical };
  return ann.logical === undefined ? type.typeName : { type: type.typeName, ...logical };
}

function compileLeaf(env: CompileEnv, type: AvroNode, pos: Position, rule: Rule, ann: Annotation): Node {
  if (rule.action === 'drop') return dropped(pos.rel);
  const rel = pos.rel;
  if (type.typeName === 'null')
    return { schema: 'null', fn: IDENTITY, identity: true, entries: [[rel, 'allow']] };
  if (rule.action === 'allow') {
    const schema = leafSchema(type, ann);
    if (type.typeName === 'string' && env.scanner !== null) {
      const st = env.state;
      const mode = env.detectorMode;
      const fn = createAllowString(env.scanner, (kind) => st.noteFinding(st.prefix + rel, mode, kind));
      return { schema, fn: fn as NodeFn, identity: false, entries: [[rel, 'allow']] };
    }
    return { schema, fn: IDENTITY, identity: true, entries: [[rel, 'allow']] };
  }
  const label = ruleLabel(rule);
  const act = env.action(rule, {
    avroType: type.typeName,
    logicalType: ann.logical?.logicalType as string | undefined,
  });
  const st = env.state;
  const fn: NodeFn = (value) => {
    try {
      return act(value);
    } catch (err) {
      throw st.fail(rel, label, err);
    }
  };
  return { schema: 'string', fn, identity: false, entries: [[rel, label]] };
}

function compileRecord(env: CompileEnv, type: AvroNode, pos: Position, rule: Rule, ann: Annotation): Node {
  if (env.recordStack.has(type))
    throw planError(pos, `recursive schema (record ${type.name} inside itself) is not supported`);
  env.recordStack.add(type);
  const kept: { name: string; node: Node }[] = [];
  const entries: (readonly [string, string])[] = [];
  try {
    for (const f of type.fields ?? []) {
      const step: PathStep = { kind: 'field', name: f.name };
      const node = compileNode(env, f.type, childPosition(pos, step), rule, ann.field(f.name));
      entries.push(...node.entries);
      if (node.schema !== null) kept.push({ name: f.name, node });
    }
  } finally {
    env.recordStack.delete(type);
  }
  // The root record always stays (an event with no fields left is still an event).
  if (kept.length === 0 && pos.steps.length > 0) return dropped(pos.rel);
  const schema = {
    type: 'record',
    name: env.namer.recordName(pos.steps, type.name as string),
    fields: kept.map((k) => ({ name: k.name, type: optionalSchema(k.node), default: null })),
  };
  // Never identity, even when every field passes unchanged: the output is always a fresh object
  // holding exactly the schema's fields, so nothing the input object carries beyond its schema
  // (possible when a caller builds records by hand) can reach toJson.
  const fn = recordBuilder(
    kept.map((k) => k.name),
    kept.map((k) => k.node.fn),
  );
  return { schema, fn, identity: false, entries };
}

function optionalSchema(node: Node): NonNullable<Node['schema']> {
  const s = node.schema as NonNullable<Node['schema']>;
  const branches = Array.isArray(s) ? s : [s];
  return ['null', ...branches.filter((b) => b !== 'null')];
}

function compileArray(env: CompileEnv, type: AvroNode, pos: Position, rule: Rule, ann: Annotation): Node {
  const item = compileNode(
    env,
    type.itemsType as AvroNode,
    childPosition(pos, ITEMS_STEP),
    rule,
    ann.items(),
  );
  if (item.schema === null) return dropped(pos.rel);
  const schema = { type: 'array', items: item.schema };
  if (item.identity) return { schema, fn: IDENTITY, identity: true, entries: item.entries };
  const f = item.fn;
  const fn: NodeFn = (value) => {
    const v = value as unknown[];
    const n = v.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = f(v[i]);
    return out;
  };
  return { schema, fn, identity: false, entries: item.entries };
}

/**
 * Compiles the node `type` at `pos`. `inherited` is what decided the parent; `genericKeyHit` is
 * set for the "any other key" entry of a map (see resolve.ts).
 */
export function compileNode(
  env: CompileEnv,
  type: AvroNode,
  pos: Position,
  inherited: Rule,
  ann: Annotation,
  genericKeyHit = false,
): Node {
  const t = type.typeName;
  if (t === 'union:wrapped' || t === 'union:unwrapped') {
    // Branches sit at the same path: each resolves the same rule from the same inputs.
    return compileUnion(type, pos, ann, (branch, i) =>
      compileNode(env, branch, pos, inherited, ann.branch(i), genericKeyHit),
    );
  }
  const rule = resolveRule(env, pos.steps, inherited, genericKeyHit);
  switch (t) {
    case 'record':
    case 'error':
      return compileRecord(env, type, pos, rule, ann);
    case 'array':
      return compileArray(env, type, pos, rule, ann);
    case 'map':
      return compileMap(env, type, pos, rule, ann, compileNode);
    case 'null':
    case 'enum':
    case 'fixed':
      return compileLeaf(env, type, pos, rule, ann);
    default:
      if (PRIMITIVES.has(t)) return compileLeaf(env, type, pos, rule, ann);
      throw planError(pos, `unsupported Avro type '${t}' (types must be built without logical-type hooks)`);
  }
}
