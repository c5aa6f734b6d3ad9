/**
 * Consent-aware delivery, in Segment Consent Management's event shape: an event's consent is
 * `context.consent.categoryPreferences`, a map (or record) of category → boolean. A destination
 * that declares `consent: { categories, missing }` receives an event only when every declared
 * category is `true`.
 *
 * Fail closed, as a privacy officer would expect:
 * - preferences absent as a whole (no context, no consent, no categoryPreferences, or null; or a
 *   writer schema without that path): `missing` decides — `drop` (the default) filters, `deliver`
 *   delivers;
 * - preferences present but a declared category absent (or null): not consented, whatever
 *   `missing` says (the person stated preferences and did not grant that one);
 * - a category whose value is not a boolean at run time: not consented.
 *
 * The path is resolved once per writer schema: the per-record check is a few property reads. A
 * writer schema that types the preferences (or a declared category of a preferences record) as
 * anything but boolean cannot be planned (PHIGATE_ERR_PLAN), so `check` reports it.
 */
import { PhiGateError } from '../errors.ts';
import type { AvroNode } from './compile/env.ts';

export interface ConsentConfig {
  /** Sorted, distinct, at least one. */
  readonly categories: readonly string[];
  readonly missing: 'drop' | 'deliver';
}

/** Where the preferences are read from (Segment Consent Management). */
export const CONSENT_PATH: readonly string[] = Object.freeze(['context', 'consent', 'categoryPreferences']);
export const CONSENT_DISPLAY_PATH = CONSENT_PATH.join('.');

/**
 * Why a category did not pass: `missing` — no preferences at all (category null); `absent` — the
 * preferences do not name it (or hold null); `denied` — false; `invalid` — not a boolean.
 */
export type ConsentReason = 'missing' | 'absent' | 'denied' | 'invalid';

export interface ConsentBlock {
  /** null when the preferences are missing as a whole. */
  readonly category: string | null;
  readonly reason: ConsentReason;
}

/** What a blocked event records: decision fields (path → `consent:<reason>`) and the blocks. */
export interface ConsentVerdict {
  readonly fields: Readonly<Record<string, string>>;
  readonly blocked: readonly ConsentBlock[];
}

export interface ConsentGate {
  /** null: every declared category is consented (or preferences are missing and `missing: deliver`). */
  check(record: unknown): ConsentVerdict | null;
  /** Legal but probably unintended, for `check`: e.g. the writer schema has no preferences at all. */
  readonly warnings: readonly string[];
}

type Getter = (value: unknown) => unknown;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);

function planError(message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_PLAN', `consent: ${message}`);
}

/** A node that may hold the next step: a record (or, at the end, a map), with how to reach it. */
interface Reached {
  readonly node: AvroNode;
  /** Reads the branch value out of the union value (identity when not in a union). */
  readonly unwrap: Getter;
}

const passObject: Getter = (v) => (isObject(v) ? v : undefined);

/**
 * Strips unions: the one branch that is a record (or, when `terminal`, a record or map); null when
 * there is none. Other branches (null, a string…) read as missing.
 */
function reach(type: AvroNode, at: string, terminal: boolean): Reached | null {
  const fits = (t: AvroNode): boolean =>
    t.typeName === 'record' || t.typeName === 'error' || (terminal && t.typeName === 'map');
  if (type.typeName !== 'union:wrapped' && type.typeName !== 'union:unwrapped')
    return fits(type) ? { node: type, unwrap: passObject } : null;
  const branches = (type.types ?? []).filter(fits);
  if (branches.length === 0) return null;
  if (branches.length > 1) throw planError(`${at} is a union of several records or maps: ambiguous`);
  const branch = branches[0] as AvroNode;
  if (type.typeName === 'union:unwrapped') return { node: branch, unwrap: passObject };
  const name = branch.branchName as string;
  return { node: branch, unwrap: (v) => (isObject(v) ? passObject(v[name]) : undefined) };
}

/** boolean or ["null", "boolean"]: the only value types a preference may have. */
function isBooleanType(type: AvroNode): boolean {
  if (type.typeName === 'boolean') return true;
  if (type.typeName !== 'union:unwrapped' && type.typeName !== 'union:wrapped') return false;
  const types = type.types ?? [];
  return (
    types.some((t) => t.typeName === 'boolean') &&
    types.every((t) => t.typeName === 'boolean' || t.typeName === 'null')
  );
}

function typeLabel(type: AvroNode): string {
  const s = type.schema();
  return typeof s === 'string' ? s : JSON.stringify(s);
}

/** The getter of the preferences object (undefined when missing), or null when the schema has no such path. */
function preferencesGetter(root: AvroNode): { get: Getter; node: AvroNode } | null {
  let get: Getter = passObject;
  let reached = reach(root, '(root)', false);
  for (let i = 0; i < CONSENT_PATH.length; i++) {
    if (reached === null) return null;
    const name = CONSENT_PATH[i] as string;
    const field = reached.node.fields?.find((f) => f.name === name);
    if (field === undefined) return null;
    const terminal = i === CONSENT_PATH.length - 1;
    const next = reach(field.type, CONSENT_PATH.slice(0, i + 1).join('.'), terminal);
    if (next === null) {
      if (terminal) {
        throw planError(
          `${CONSENT_DISPLAY_PATH} must be a map or record of booleans; the writer schema has ${typeLabel(field.type)}`,
        );
      }
      return null;
    }
    const outer = get;
    const unwrap = next.unwrap;
    get = (v) => {
      const parent = outer(v);
      return parent === undefined ? undefined : unwrap((parent as Record<string, unknown>)[name]);
    };
    reached = next;
  }
  return reached === null ? null : { get, node: reached.node };
}

const REASON_CODE: Record<ConsentReason, string> = { missing: 'm', absent: 'a', denied: 'd', invalid: 'i' };
const VERDICT_CACHE_LIMIT = 1024;

function reasonOf(v: unknown): ConsentReason | null {
  if (v === true) return null;
  if (v === false) return 'denied';
  return v === undefined || v === null ? 'absent' : 'invalid';
}

function verdict(blocked: readonly ConsentBlock[]): ConsentVerdict {
  const fields: Record<string, string> = {};
  for (const b of blocked) {
    const path = b.category === null ? CONSENT_DISPLAY_PATH : `${CONSENT_DISPLAY_PATH}.${b.category}`;
    fields[path] = `consent:${b.reason}`;
  }
  return Object.freeze({
    fields: Object.freeze(fields),
    blocked: Object.freeze(blocked.map((b) => Object.freeze({ ...b }))),
  });
}

/** Compiles the consent gate of one destination for one writer schema; null without `consent`. */
export function compileConsent(config: ConsentConfig | null, root: AvroNode): ConsentGate | null {
  if (config === null) return null;
  const categories = config.categories;
  const warnings: string[] = [];
  const found = preferencesGetter(root);
  const missingVerdict =
    config.missing === 'deliver' ? null : verdict([{ category: null, reason: 'missing' }]);
  if (found === null) {
    warnings.push(
      `the writer schema has no ${CONSENT_DISPLAY_PATH}: consent is always missing, so ` +
        (config.missing === 'deliver'
          ? 'every event is delivered (missing: deliver)'
          : 'every event is filtered'),
    );
    return Object.freeze({ check: () => missingVerdict, warnings: Object.freeze(warnings) });
  }
  const { get, node } = found;

  // One reader per declared category, fixed by the schema: a map entry or a record field.
  let readers: ((prefs: Record<string, unknown>) => unknown)[];
  if (node.typeName === 'map') {
    const values = node.valuesType as AvroNode;
    if (!isBooleanType(values)) {
      throw planError(
        `${CONSENT_DISPLAY_PATH} must map categories to booleans; the writer schema maps them to ${typeLabel(values)}`,
      );
    }
    readers = categories.map((c) => (prefs) => (Object.hasOwn(prefs, c) ? prefs[c] : undefined));
  } else {
    readers = categories.map((c) => {
      const field = node.fields?.find((f) => f.name === c);
      if (field === undefined) {
        warnings.push(
          `${CONSENT_DISPLAY_PATH} has no field '${c}' in the writer schema: that category is never consented`,
        );
        return () => undefined;
      }
      if (!isBooleanType(field.type)) {
        throw planError(
          `${CONSENT_DISPLAY_PATH}.${c} must be a boolean; the writer schema has ${typeLabel(field.type)}`,
        );
      }
      return (prefs) => prefs[c];
    });
  }

  // Verdicts are frozen and shared by every event with the same reasons (a closed set per plan).
  const cache = new Map<string, ConsentVerdict>();
  const n = categories.length;
  const reasons = new Array<ConsentReason | null>(n); // scratch: plans are not re-entrant
  return Object.freeze({
    check(record: unknown): ConsentVerdict | null {
      const prefs = get(record) as Record<string, unknown> | undefined;
      if (prefs === undefined) return missingVerdict;
      let key = '';
      let blocked = false;
      for (let i = 0; i < n; i++) {
        const reason = reasonOf((readers[i] as (p: Record<string, unknown>) => unknown)(prefs));
        reasons[i] = reason;
        if (reason === null) key += '-';
        else {
          key += REASON_CODE[reason];
          blocked = true;
        }
      }
      if (!blocked) return null;
      let v = cache.get(key);
      if (v === undefined) {
        const blocks: ConsentBlock[] = [];
        for (let i = 0; i < n; i++) {
          const reason = reasons[i];
          if (reason !== null && reason !== undefined)
            blocks.push({ category: categories[i] as string, reason });
        }
        v = verdict(blocks);
        if (cache.size < VERDICT_CACHE_LIMIT) cache.set(key, v);
      }
      return v;
    },
    warnings: Object.freeze(warnings),
  });
}
