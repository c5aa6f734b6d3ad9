/**
 * What the compiler of one plan works with, and what it produces per schema node.
 */
import type { ActionFn, LeafInfo } from '../actions/types.ts';
import type { DestinationConfig, FieldRule } from '../config.ts';
import type { DetectorMode, Scanner } from '../detectors.ts';
import type { MatcherSet } from '../matchers.ts';
import type { PathStep } from '../paths.ts';
import type { Rule, RuleOrigin } from '../rules.ts';
import type { Namer } from './namer.ts';
import type { Schema } from './schema-json.ts';
import type { ApplyState } from './state.ts';

/** The parts of an avsc Type the compiler reads (avsc's typings leave most of them `any`). */
export interface AvroNode {
  readonly typeName: string;
  readonly name?: string | undefined;
  readonly branchName?: string | undefined;
  readonly fields?: readonly { readonly name: string; readonly type: AvroNode }[];
  readonly itemsType?: AvroNode;
  readonly valuesType?: AvroNode;
  readonly types?: readonly AvroNode[];
  readonly symbols?: readonly string[];
  readonly size?: number;
  schema(): unknown;
}

export interface CompileEnv {
  readonly dest: DestinationConfig;
  readonly matchers: MatcherSet;
  readonly detectorMode: DetectorMode;
  readonly scanner: Scanner | null;
  /** Builds a transforming action and records the key ids it uses. */
  readonly action: (rule: Rule, leaf: LeafInfo) => ActionFn;
  readonly namer: Namer;
  readonly state: ApplyState;
  /** Field rules that matched at least one node (the rest are reported by `check`). */
  readonly used: Set<FieldRule>;
  /** Records on the current path: a record inside itself is a recursive schema. */
  readonly recordStack: Set<AvroNode>;
  /** Bound of the per-map cache of key decisions. */
  readonly keyCacheLimit: number;
  /**
   * Display path (policy pattern syntax: `a.b`, `a[]`, `m.*` for any map key) → what decided its
   * rule, for the inventory. Off while the "any other key a matcher flags" variant of a map compiles,
   * so `m.*` keeps the origin of an ordinary key.
   */
  readonly origins: Map<string, RuleOrigin>;
  readonly trace: { on: boolean };
}

/** Where a node sits. `rel` is its display path relative to the innermost map entry ('' = the entry). */
export interface Position {
  readonly steps: readonly PathStep[];
  readonly rel: string;
  /** True outside any map: then `rel` is the full path and carries no leading dot. */
  readonly atTop: boolean;
}

export type NodeFn = (value: unknown) => unknown;

export interface Node {
  /** Derived schema of this node with full named definitions; null when the node is dropped. */
  readonly schema: Schema | null;
  readonly fn: NodeFn;
  /** fn returns its input unchanged (lets parents skip copying). */
  readonly identity: boolean;
  /** Static decision entries [rel path, action]. */
  readonly entries: readonly (readonly [string, string])[];
}

export function childPosition(pos: Position, step: PathStep): Position {
  const steps = [...pos.steps, step];
  if (step.kind === 'items') return { steps, rel: `${pos.rel}[]`, atTop: pos.atTop };
  const name = step.kind === 'field' ? step.name : (step.key ?? '*');
  return { steps, rel: pos.rel === '' && pos.atTop ? name : `${pos.rel}.${name}`, atTop: pos.atTop };
}

/** Display path of a map entry `segment` below `pos`. */
export function entryRel(pos: Position, segment: string): string {
  return pos.rel === '' && pos.atTop ? segment : `${pos.rel}.${segment}`;
}

export const IDENTITY: NodeFn = (v) => v;
const DROPPED_FN: NodeFn = () => null;

export function dropped(rel: string): Node {
  return { schema: null, fn: DROPPED_FN, identity: false, entries: [[rel, 'drop']] };
}
