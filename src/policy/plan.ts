/**
 * One destination's plan for one writer schema: the derived schema and type, and `apply`, which
 * runs the event filter, the consent gate, the compiled closures and the decision bookkeeping. Everything that can
 * be known from the schema is computed here; apply allocates the output, a result and a decision.
 */
import avro from 'avsc';
import { isPhiGateError, PhiGateError } from '../errors.ts';
import type { ActionFn, LeafInfo } from './actions/types.ts';
import { annotate, NO_ANNOTATION } from './compile/annotations.ts';
import { fieldsBuilder } from './compile/codegen.ts';
import type { AvroNode, CompileEnv } from './compile/env.ts';
import { Namer } from './compile/namer.ts';
import { compileNode } from './compile/nodes.ts';
import { dedupeNamed } from './compile/schema-json.ts';
import { ApplyState } from './compile/state.ts';
import type { DestinationConfig, FieldRule } from './config.ts';
import { compileConsent } from './consent.ts';
import type { Scanner } from './detectors.ts';
import { compileEventFilter, compileEventIdentity } from './events.ts';
import type { MatcherSet } from './matchers.ts';
import { ALLOW, DROP, type Rule, type RuleOrigin } from './rules.ts';
import { compileToJson } from './to-json.ts';
import type { CompileOptions, Decision, Outcome, Plan, PlanResult } from './types.ts';

/** Everything a destination holds that its plans need (built once per policy load). */
export interface PlanContext {
  readonly config: DestinationConfig;
  readonly version: string;
  readonly namespace: string;
  readonly matchers: MatcherSet;
  readonly scanner: Scanner | null;
  /** Builds a transforming action; returns the key id it uses (or null) beside it. */
  readonly action: (rule: Rule, leaf: LeafInfo) => { fn: ActionFn; keyId: string | null };
  /** Key id of the record-key hash, when the key rule hashes. */
  readonly recordKeyId: string | null;
}

const KEY_CACHE_LIMIT = 4096;
/**
 * Distinct sets of data-decided decision entries (map keys, detector hits) per plan whose merged
 * decision fields are kept, frozen: events of the same shape then share one object, which the audit
 * encoder and the metrics recognise by identity instead of re-encoding the whole field map per event.
 */
const FIELDS_CACHE_LIMIT = 1024;
const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});
const NO_KIDS: readonly string[] = Object.freeze([]);
const NO_WARNINGS: readonly string[] = Object.freeze([]);

function planError(message: string, cause?: unknown): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_PLAN', message, cause === undefined ? undefined : { cause });
}

export function compilePlan(ctx: PlanContext, writerType: avro.Type, options?: CompileOptions): Plan {
  const root = writerType as unknown as AvroNode;
  const state = new ApplyState();
  const used = new Set<FieldRule>();
  const kidSet = new Set<string>();
  if (ctx.recordKeyId !== null) kidSet.add(ctx.recordKeyId);
  const env: CompileEnv = {
    dest: ctx.config,
    matchers: ctx.matchers,
    detectorMode: ctx.config.detectors,
    scanner: ctx.scanner,
    action: (rule, leaf) => {
      const { fn, keyId } = ctx.action(rule, leaf);
      if (keyId !== null) kidSet.add(keyId);
      return fn;
    },
    namer: new Namer(ctx.namespace),
    state,
    used,
    recordStack: new Set(),
    keyCacheLimit: KEY_CACHE_LIMIT,
    origins: new Map(),
    trace: { on: true },
  };
  const ann = options?.writerSchema === undefined ? NO_ANNOTATION : annotate(options.writerSchema);
  const modeDefault = ctx.config.mode === 'allowlist' ? DROP : ALLOW;
  env.origins.set('', { rule: modeDefault, source: 'mode', rulePath: null, named: false });
  const node = compileNode(env, root, { steps: [], rel: '', atTop: true }, modeDefault, ann);
  if (node.schema === null)
    throw planError(`destination ${ctx.config.name}: nothing of this schema passes the policy`);
  const schema = dedupeNamed(node.schema) as object;
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
  } catch (err) {
    throw planError(`destination ${ctx.config.name}: derived schema is not valid Avro`, err);
  }

  const destination = ctx.config.name;
  const policyVersion = ctx.version;
  const staticFields = Object.freeze(
    Object.fromEntries(node.entries.map(([p, a]) => [p === '' ? '(value)' : p, a])),
  );
  const withDynamic = fieldsBuilder(staticFields);
  const merged = new Map<string, Readonly<Record<string, string>>>();
  const fieldsWith = (dynamic: Record<string, string>): Readonly<Record<string, string>> => {
    let key = '';
    for (const path in dynamic) key += `${path}\u0000${dynamic[path]}\u0000`;
    let fields = merged.get(key);
    if (fields === undefined) {
      fields = withDynamic(dynamic);
      if (merged.size < FIELDS_CACHE_LIMIT) merged.set(key, Object.freeze(fields));
    }
    return fields;
  };
  const kids = Object.freeze([...kidSet].sort());
  const identity = compileEventIdentity(root);
  const passes = compileEventFilter(ctx.config.eventsAllow, ctx.config.eventsDrop);
  const consent = compileConsent(ctx.config.consent, root);
  const fn = node.fn;

  const decision = (
    outcome: Outcome,
    eventType: string | null,
    eventName: string | null,
    fields: Readonly<Record<string, string>>,
    decisionKids: readonly string[],
    errorCode: string | null,
  ): Decision => ({
    destination,
    policyVersion,
    outcome,
    eventType,
    eventName,
    fields,
    kids: decisionKids,
    errorCode,
  });

  const apply = (record: unknown): PlanResult => {
    state.reset();
    let eventType: string | null = null;
    let eventName: string | null = null;
    try {
      eventType = identity.type(record);
      eventName = identity.name(record, eventType);
      if (!passes(eventType, eventName)) {
        return {
          outcome: 'filtered',
          decision: decision('filtered', eventType, eventName, NO_FIELDS, NO_KIDS, null),
        };
      }
      if (consent !== null) {
        const blocked = consent.check(record);
        if (blocked !== null) {
          return {
            outcome: 'filtered_consent',
            decision: decision('filtered_consent', eventType, eventName, blocked.fields, NO_KIDS, null),
            blocked: blocked.blocked,
          };
        }
      }
      const value = fn(record);
      const fields = state.dynamic === null ? staticFields : fieldsWith(state.dynamic);
      return {
        outcome: 'delivered',
        value,
        decision: decision('delivered', eventType, eventName, fields, kids, null),
      };
    } catch (err) {
      // Fail closed: nothing of this event goes to this destination.
      const error = isPhiGateError(err) ? err : state.fail('', 'apply', err);
      const path = state.failPath || '(record)';
      const fields = Object.freeze({ [path]: `failed:${error.code}` });
      return {
        outcome: 'failed_closed',
        decision: decision('failed_closed', eventType, eventName, fields, kids, error.code),
        error,
      };
    }
  };

  return Object.freeze({
    schema,
    type,
    apply,
    toJson: compileToJson(type as unknown as AvroNode),
    unmatchedRules: Object.freeze(
      ctx.config.fields.filter((fr) => !used.has(fr)).map((fr) => fr.pattern.source),
    ),
    warnings: consent?.warnings ?? NO_WARNINGS,
    origins: env.origins as ReadonlyMap<string, RuleOrigin>,
  });
}
