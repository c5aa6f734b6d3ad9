/**
 * What a policy change would do to real events: each event is run through both policies' compiled
 * plans (the same plans the pipeline runs), and the decisions are compared per destination —
 * events newly delivered / newly filtered, and per field path the old → new action with counts.
 *
 * A **leak** is a change that lets a sensitive field reach a destination in clear where, for that
 * same event, it did not before: the new decision delivers the event with the field `allow`ed or
 * only `flag`ged by a detector, the old one did not (dropped, hashed, encrypted, generalized,
 * redacted, or the event was not delivered at all), and the field is sensitive — a matcher flags its
 * name (or it is a map key a matcher flagged, `<pii:…>`), or a value detector hit it under either
 * policy (`flag:` / `redact:`). Detectors only run on fields a policy lets through as text, so a hit
 * is known where either policy looks. A field the event holds as null is no leak (nothing is sent).
 *
 * Pure: no I/O. Names and decisions only, never a value.
 */
import { isPhiGateError } from '../errors.ts';
import type { CompileOptions, Decision, Destination, Plan, Policy } from './types.ts';

export interface EventCounts {
  delivered: number;
  filtered: number;
  filtered_consent: number;
  failed_closed: number;
}

export interface FieldChange {
  readonly path: string;
  /** The old action, or `(filtered)`, `(filtered_consent)`, `(failed_closed)`, `(absent)` when the old decision did not deliver the event. */
  readonly from: string;
  readonly to: string;
  readonly events: number;
  /** Why it is a leak (e.g. `the 'email' matcher flags it`); null when it is not one. */
  readonly leak: string | null;
}

export interface DestinationDiff {
  readonly destination: string;
  /** `both`: in both policies; `added` / `removed`: in one only. */
  readonly presence: 'both' | 'added' | 'removed';
  readonly old: EventCounts;
  readonly new: EventCounts;
  readonly newlyDelivered: number;
  readonly newlyFiltered: number;
  /** Changes of events both policies deliver, and every leak; by path, leaks first, then by count. */
  readonly fields: readonly FieldChange[];
  readonly leaks: number;
}

export interface PolicyDiff {
  readonly events: number;
  readonly undecodable: number;
  readonly oldVersion: string;
  readonly newVersion: string;
  readonly destinations: readonly DestinationDiff[];
  /** Events × (destination, path) that newly reach a destination in clear while sensitive. */
  readonly leaks: number;
}

/** Actions that pass the value as it is (a `flag` reports a detector hit but leaves the text). */
function inClear(action: string | undefined): boolean {
  return action === 'allow' || action?.startsWith('flag:') === true;
}

function detectorHit(action: string | undefined): boolean {
  return action !== undefined && (action.startsWith('flag:') || action.startsWith('redact:'));
}

const EMPTY_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

const NOT_DELIVERED = {
  filtered: '(filtered)',
  filtered_consent: '(filtered_consent)',
  failed_closed: '(failed_closed)',
} as const;

type Side = {
  readonly delivered: boolean;
  readonly label: string;
  readonly fields: Readonly<Record<string, string>>;
};

function sideOf(decision: Decision | null): Side {
  if (decision === null) return { delivered: false, label: '(absent)', fields: EMPTY_FIELDS };
  if (decision.outcome === 'delivered') return { delivered: true, label: '', fields: decision.fields };
  return {
    delivered: false,
    label: NOT_DELIVERED[decision.outcome as keyof typeof NOT_DELIVERED] ?? `(${decision.outcome})`,
    fields: EMPTY_FIELDS,
  };
}

const zero = (): EventCounts => ({ delivered: 0, filtered: 0, filtered_consent: 0, failed_closed: 0 });

class DestinationTally {
  readonly old = zero();
  readonly new = zero();
  newlyDelivered = 0;
  newlyFiltered = 0;
  readonly changes = new Map<
    string,
    { path: string; from: string; to: string; events: number; leak: string | null }
  >();
  leaks = 0;

  readonly name: string;
  readonly presence: DestinationDiff['presence'];

  constructor(name: string, presence: DestinationDiff['presence']) {
    this.name = name;
    this.presence = presence;
  }
}

/** Accumulates the comparison event by event; `result()` any time. */
export class PolicyComparison {
  readonly #old: Policy;
  readonly #new: Policy;
  readonly #tallies = new Map<string, DestinationTally>();
  /** Per writer schema (by its Type object): destination → plan, or null when it cannot plan. */
  readonly #plans = new WeakMap<object, Map<Destination, Plan | null>>();
  /** Sensitivity of a path by name: computed once per path. */
  readonly #flagged = new Map<string, string | null>();
  #events = 0;
  #undecodable = 0;

  constructor(oldPolicy: Policy, newPolicy: Policy) {
    this.#old = oldPolicy;
    this.#new = newPolicy;
    const oldNames = new Set(oldPolicy.destinations.map((d) => d.name));
    const newNames = new Set(newPolicy.destinations.map((d) => d.name));
    for (const name of [...new Set([...oldNames, ...newNames])].sort()) {
      const presence = oldNames.has(name) ? (newNames.has(name) ? 'both' : 'removed') : 'added';
      this.#tallies.set(name, new DestinationTally(name, presence));
    }
  }

  undecodable(): void {
    this.#undecodable++;
  }

  /** One decoded event: `type` is its compiled writer Type, `schema` the parsed writer schema. */
  add(type: unknown, schema: unknown, value: unknown): void {
    this.#events++;
    for (const tally of this.#tallies.values()) {
      const before = this.#decide(this.#old, tally.name, type, schema, value);
      const after = this.#decide(this.#new, tally.name, type, schema, value);
      if (before !== null) tally.old[before.outcome as keyof EventCounts]++;
      if (after !== null) tally.new[after.outcome as keyof EventCounts]++;
      this.#compare(tally, sideOf(before), sideOf(after), value);
    }
  }

  result(): PolicyDiff {
    const destinations = [...this.#tallies.values()].map(
      (t): DestinationDiff => ({
        destination: t.name,
        presence: t.presence,
        old: { ...t.old },
        new: { ...t.new },
        newlyDelivered: t.newlyDelivered,
        newlyFiltered: t.newlyFiltered,
        fields: [...t.changes.values()]
          .map((c) => ({ ...c }))
          .sort((a, b) =>
            a.path !== b.path
              ? a.path < b.path
                ? -1
                : 1
              : Number(b.leak !== null) - Number(a.leak !== null) || b.events - a.events,
          ),
        leaks: t.leaks,
      }),
    );
    return {
      events: this.#events,
      undecodable: this.#undecodable,
      oldVersion: this.#old.version,
      newVersion: this.#new.version,
      destinations,
      leaks: destinations.reduce((n, d) => n + d.leaks, 0),
    };
  }

  #compare(tally: DestinationTally, before: Side, after: Side, value: unknown): void {
    if (after.delivered && !before.delivered) tally.newlyDelivered++;
    if (before.delivered && !after.delivered) tally.newlyFiltered++;
    if (!after.delivered && !before.delivered) return;
    for (const { path, from: oldAction, to: newAction } of changesOf(before.fields, after.fields)) {
      const from = before.delivered ? oldAction : before.label;
      const to = after.delivered ? newAction : after.label;
      if (from === to) continue;
      const leak =
        inClear(to) && !inClear(before.delivered ? from : undefined) && !isNullAt(value, path)
          ? this.#sensitive(path, from, to)
          : null;
      // changes of events only one side delivers are told by the event counts, unless they leak
      if (leak === null && !(before.delivered && after.delivered)) continue;
      // a leak and the same change where nothing leaked (a null value) are told apart
      const key = `${path}\u0000${from}\u0000${to}\u0000${leak === null ? '' : 'leak'}`;
      const change = tally.changes.get(key);
      if (change) change.events++;
      else tally.changes.set(key, { path, from, to, events: 1, leak });
      if (leak !== null) tally.leaks++;
    }
  }

  /** Why a path is sensitive, or null. */
  #sensitive(path: string, from: string, to: string): string | null {
    if (detectorHit(from) || detectorHit(to)) {
      const hit = detectorHit(to) ? to : from;
      const kind = hit.slice(hit.indexOf(':') + 1);
      return `a value detector hit it${kind ? ` (${kind})` : ''}`;
    }
    let reason = this.#flagged.get(path);
    if (reason === undefined) {
      reason = null;
      const pii = /<pii:([^>]+)>/.exec(path);
      if (pii) reason = `the '${pii[1]}' matcher flags its map key`;
      else {
        const name = lastName(path);
        const hit = name === null ? null : (this.#new.classify(name) ?? this.#old.classify(name));
        if (hit) reason = `the '${hit.matcher}' matcher flags it`;
      }
      this.#flagged.set(path, reason);
    }
    return reason;
  }

  #decide(policy: Policy, name: string, type: unknown, schema: unknown, value: unknown): Decision | null {
    const destination = policy.destinations.find((d) => d.name === name);
    if (destination === undefined) return null;
    let plans = this.#plans.get(type as object);
    if (plans === undefined) {
      plans = new Map();
      this.#plans.set(type as object, plans);
    }
    let plan = plans.get(destination);
    if (plan === undefined) {
      const options: CompileOptions = schema === undefined ? {} : { writerSchema: schema };
      try {
        plan = destination.compile(type as never, options);
      } catch (err) {
        if (!isPhiGateError(err)) throw err;
        plan = null;
      }
      plans.set(destination, plan);
    }
    if (plan === null) return { ...FAILED, destination: name, policyVersion: destination.version };
    return plan.apply(value).decision;
  }
}

const FAILED: Decision = Object.freeze({
  destination: '',
  policyVersion: '',
  outcome: 'failed_closed',
  eventType: null,
  eventName: null,
  fields: Object.freeze({}),
  kids: [],
  errorCode: 'PHIGATE_ERR_PLAN',
});

/** The parent path: `a.b` → `a`, `a[]` → `a`, `a` → null. */
function parentOf(path: string): string | null {
  if (path.endsWith('[]')) return path.slice(0, -2);
  const dot = path.lastIndexOf('.');
  return dot === -1 ? null : path.slice(0, dot);
}

/** The action a decision applies at `path`: its own, or its nearest ancestor's (`properties: drop` covers `properties.email`). */
function actionAt(fields: Readonly<Record<string, string>>, path: string): string | undefined {
  for (let p: string | null = path; p !== null; p = parentOf(p)) {
    const action = fields[p];
    if (action !== undefined) return action;
  }
  return undefined;
}

function hasDescendant(fields: Readonly<Record<string, string>>, path: string): boolean {
  return Object.keys(fields).some((k) => k.startsWith(`${path}.`) || k.startsWith(`${path}[`));
}

type PathChange = { readonly path: string; readonly from: string; readonly to: string };
/** Plans hand out one frozen fields object per record shape: a pair of them is compared once. */
const pairCache = new WeakMap<object, WeakMap<object, readonly PathChange[]>>();

/**
 * Every path either decision names whose action differs, each resolved through its ancestors on the
 * other side; a path that is only a container on one side (its children are named there) is left
 * to those children.
 */
function changesOf(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): readonly PathChange[] {
  const cacheable = Object.isFrozen(before) && Object.isFrozen(after);
  const cached = cacheable ? pairCache.get(before)?.get(after) : undefined;
  if (cached) return cached;
  const out: PathChange[] = [];
  for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = actionAt(before, path);
    const to = actionAt(after, path);
    if (
      (from === undefined && hasDescendant(before, path)) ||
      (to === undefined && hasDescendant(after, path))
    )
      continue;
    if (from !== to) out.push({ path, from: from ?? '(absent)', to: to ?? '(absent)' });
  }
  if (cacheable) {
    let inner = pairCache.get(before);
    if (!inner) {
      inner = new WeakMap();
      pairCache.set(before, inner);
    }
    inner.set(after, out);
  }
  return out;
}

/**
 * True when the event holds null at `path` or at a record ancestor of it: nothing reaches the
 * destination there, whatever the action. Anything it cannot follow (array items, map values, a
 * wrapped union) counts as a value, so a possible leak is never missed.
 */
function isNullAt(value: unknown, path: string): boolean {
  let at = value;
  for (const segment of path.split('.')) {
    if (at === null) return true;
    if (typeof at !== 'object' || segment.includes('[') || segment === '*' || segment.startsWith('<'))
      return false;
    at = (at as Record<string, unknown>)[segment];
    if (at === undefined) return false;
  }
  return at === null;
}

/** The field name the matchers see: the last record field (array items keep their array's name); null for a map value. */
function lastName(path: string): string | null {
  const last = path.split('.').pop() ?? '';
  const name = last.replace(/(\[\])+$/, '');
  return name === '*' || name === '' ? null : name;
}
