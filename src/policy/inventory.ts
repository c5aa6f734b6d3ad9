/**
 * The data inventory: for one writer schema, every field path with its Avro type, what the
 * matchers classify it as, and per destination the action that applies and what decided it. It is
 * read off the destinations' compiled plans (Plan.origins), so it says exactly what the pipeline
 * does — never a second interpretation of the policy.
 *
 * Entries are plain JSON, deterministic (paths in schema order, destinations by name) and hold names
 * and decisions only, never a payload value: the CLI prints them, and the service can publish one
 * per (schema id, path) to the compacted `events.inventory` topic (key: inventoryKey(entry)).
 *
 * Paths use the policy's pattern syntax, so a path is also the rule that would name it: `a.b`
 * through records, `a[]` for array items, `m.*` for the values of a map (any key). Unions are walked
 * transparently: a path whose union has leaf branches is one entry, its type listing every branch.
 * Containers (records, arrays, maps) have no entry of their own; their leaves do.
 */
import { isPhiGateError } from '../errors.ts';
import { type Annotation, annotate, NO_ANNOTATION } from './compile/annotations.ts';
import type { AvroNode } from './compile/env.ts';
import type { Classification } from './matchers.ts';
import { type RuleSource, ruleLabel } from './rules.ts';
import type { CompileOptions, Plan, Policy } from './types.ts';

export const INVENTORY_FORMAT_VERSION = 1;

export interface InventoryCell {
  /** The action label as decisions record it (`allow`, `hash`, `sha256:email`, …); `failed_closed` when unplannable. */
  readonly action: string;
  /** What decided it; `plan` when the destination cannot plan this schema (it then receives nothing). */
  readonly rule: RuleSource | 'plan';
  /** The deciding field rule's pattern (`rule: explicit`); differs from the path when inherited from an ancestor. */
  readonly rulePath: string | null;
  /** New since the reviewed schema version, and no field rule of this destination names it. */
  readonly unreviewed: boolean;
}

export interface InventoryEntry {
  readonly formatVersion: number;
  readonly schemaId: number | null;
  readonly subject: string | null;
  readonly version: number | null;
  readonly path: string;
  /** `string`, `null|string`, `long(timestamp-millis)`, `enum CallType`, `fixed(16) Id`, … */
  readonly avroType: string;
  readonly classification: Classification | null;
  /** Absent from the reviewed schema version; null when there is no reviewed version to compare with. */
  readonly newSinceReview: boolean | null;
  readonly policyVersion: string;
  /** By destination name, in name order. */
  readonly destinations: Readonly<Record<string, InventoryCell>>;
}

/** Where a writer schema came from: a registry subject version (ids known), or a file (all null). */
export interface WriterSource {
  readonly schemaId?: number | null;
  readonly subject?: string | null;
  readonly version?: number | null;
}

export interface InventoryWriter extends WriterSource {
  /** The compiled avsc Type (wrapUnions auto, no logical-type hooks), as the pipeline has it. */
  readonly type: unknown;
  /** The writer schema JSON: keeps logical types for `avroType` and the plans. */
  readonly schema?: unknown;
}

/** The reviewed baseline: its version and the paths it had (fieldPaths of that version). */
export interface ReviewedBaseline {
  readonly version: number;
  readonly paths: ReadonlySet<string>;
}

interface Leaf {
  readonly path: string;
  readonly avroType: string;
  /** The name the matchers see: the last field name (array items keep their array's name). */
  readonly name: string | null;
}

const CONTAINERS = new Set(['record', 'error', 'array', 'map']);
const isUnion = (t: AvroNode): boolean => t.typeName === 'union:wrapped' || t.typeName === 'union:unwrapped';

function leafType(t: AvroNode, ann: Annotation): string {
  switch (t.typeName) {
    case 'enum':
      return `enum ${t.name}`;
    case 'fixed':
      return `fixed(${t.size}) ${t.name}`;
    case 'record':
    case 'error':
      return `record ${t.name}`;
    case 'array':
    case 'map':
      return t.typeName;
    default: {
      const logical = ann.logical?.logicalType;
      return typeof logical === 'string' ? `${t.typeName}(${logical})` : t.typeName;
    }
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Leaves of a writer schema in schema order, each once (a path reached twice keeps its first type). */
function leavesOf(root: AvroNode, rootAnn: Annotation): Leaf[] {
  const out = new Map<string, Leaf>();
  const stack = new Set<AvroNode>();
  const walk = (t: AvroNode, ann: Annotation, path: string, name: string | null): void => {
    if (isUnion(t)) {
      const branches = t.types ?? [];
      // An entry of its own when a branch holds a value here (null alone does not, unless it is all there is).
      const holdsValue =
        branches.some((b) => b.typeName !== 'null' && !CONTAINERS.has(b.typeName)) ||
        branches.every((b) => b.typeName === 'null');
      if (holdsValue && !out.has(path)) {
        const types = branches.map((b, i) => leafType(b, ann.branch(i)));
        out.set(path, { path, avroType: types.join('|'), name });
      }
      branches.forEach((b, i) => {
        if (CONTAINERS.has(b.typeName)) walk(b, ann.branch(i), path, name);
      });
      return;
    }
    switch (t.typeName) {
      case 'record':
      case 'error': {
        // A recursive schema cannot be planned either: stop where it would repeat.
        if (stack.has(t)) return;
        stack.add(t);
        const fields = t.fields ?? [];
        if (fields.length === 0 && path !== '' && !out.has(path))
          out.set(path, { path, avroType: leafType(t, ann), name });
        for (const f of fields) walk(f.type, ann.field(f.name), join(path, f.name), f.name);
        stack.delete(t);
        return;
      }
      case 'array':
        walk(t.itemsType as AvroNode, ann.items(), `${path}[]`, name);
        return;
      case 'map':
        walk(t.valuesType as AvroNode, ann.values(), join(path, '*'), null);
        return;
      default:
        if (!out.has(path))
          out.set(path, { path: path === '' ? '(value)' : path, avroType: leafType(t, ann), name });
    }
  };
  walk(root, rootAnn, '', null);
  return [...out.values()];
}

/** Every leaf path of a writer schema (the baseline of a reviewed version). */
export function fieldPaths(writerType: unknown, writerSchema?: unknown): Set<string> {
  const ann = writerSchema === undefined ? NO_ANNOTATION : annotate(writerSchema);
  return new Set(leavesOf(writerType as AvroNode, ann).map((l) => l.path));
}

const FAILED: InventoryCell = Object.freeze({
  action: 'failed_closed',
  rule: 'plan',
  rulePath: null,
  unreviewed: false,
});

/**
 * The inventory of one writer schema under a policy. Compiles (or reuses, plans are cached per
 * Type) every destination's plan; a destination that cannot plan the schema gets `failed_closed`
 * cells. `reviewed`, when given, marks fields new since that version (only when the writer's own
 * version is newer).
 */
export function inventoryOf(
  policy: Policy,
  writer: InventoryWriter,
  reviewed?: ReviewedBaseline | null,
): InventoryEntry[] {
  const options: CompileOptions = writer.schema === undefined ? {} : { writerSchema: writer.schema };
  const plans = new Map<string, Plan | null>();
  for (const d of [...policy.destinations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    try {
      plans.set(d.name, d.compile(writer.type as never, options));
    } catch (err) {
      if (!isPhiGateError(err, 'PHIGATE_ERR_PLAN')) throw err;
      plans.set(d.name, null);
    }
  }
  const ann = writer.schema === undefined ? NO_ANNOTATION : annotate(writer.schema);
  const version = writer.version ?? null;
  const baseline = reviewed ?? null;
  const compare = baseline !== null && version !== null;
  return leavesOf(writer.type as AvroNode, ann).map((leaf) => {
    const isNew = compare ? version > baseline.version && !baseline.paths.has(leaf.path) : null;
    const destinations: Record<string, InventoryCell> = {};
    for (const [name, plan] of plans) {
      if (plan === null) {
        destinations[name] = FAILED;
        continue;
      }
      const origin = plan.origins.get(leaf.path === '(value)' ? '' : leaf.path);
      if (origin === undefined) throw new Error(`internal: plan of ${name} has no rule for ${leaf.path}`);
      destinations[name] = Object.freeze({
        action: ruleLabel(origin.rule),
        rule: origin.source,
        rulePath: origin.rulePath,
        unreviewed: isNew === true && !origin.named,
      });
    }
    return Object.freeze({
      formatVersion: INVENTORY_FORMAT_VERSION,
      schemaId: writer.schemaId ?? null,
      subject: writer.subject ?? null,
      version,
      path: leaf.path,
      avroType: leaf.avroType,
      classification: leaf.name === null ? null : policy.classify(leaf.name),
      newSinceReview: isNew,
      policyVersion: policy.version,
      destinations: Object.freeze(destinations),
    });
  });
}

/** The compacted-topic key of an entry: `<schema id>/<path>` (DESIGN §2). */
export function inventoryKey(entry: InventoryEntry): string {
  return `${entry.schemaId ?? 'local'}/${entry.path}`;
}

/** Unreviewed fields per destination (every destination listed, zero included): the metric's values. */
export function unreviewedCounts(policy: Policy, entries: readonly InventoryEntry[]): Map<string, number> {
  const counts = new Map(policy.destinations.map((d) => [d.name, 0]));
  for (const e of entries)
    for (const [name, cell] of Object.entries(e.destinations))
      if (cell.unreviewed) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/**
 * The rule a reviewer would most likely write for an unreviewed field: `hash` where a matcher flags
 * it, otherwise `drop` (fail safe). The path names the array, not its items (`tags`, not `tags[]`).
 */
export function suggestedRule(entry: InventoryEntry): {
  readonly path: string;
  readonly rule: 'drop' | 'hash';
} {
  return {
    path: entry.path.replace(/(\[\])+$/, ''),
    rule: entry.classification === null ? 'drop' : 'hash',
  };
}
