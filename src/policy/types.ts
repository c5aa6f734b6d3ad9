/**
 * The policy engine's public contract, consumed by the pipeline. A Policy is loaded once (and on
 * hot reload); each Destination compiles one Plan per writer schema; the per-record path only runs
 * Plan.apply. Nothing here ever carries a payload value except PlanResult.value.
 */
import type avro from 'avsc';
import type { PhiGateError, Problem } from '../errors.ts';
import type { ConsentBlock } from './consent.ts';
import type { Classification } from './matchers.ts';
import type { RuleOrigin } from './rules.ts';

export type { Problem } from '../errors.ts';
export type { ConsentBlock, ConsentReason } from './consent.ts';
export type { Classification } from './matchers.ts';
export type { RuleOrigin, RuleSource } from './rules.ts';

export interface Policy {
  /** Content hash of the whole normalized policy, including key ids. */
  readonly version: string;
  readonly destinations: readonly Destination[];
  /** Things that are legal but probably wrong (e.g. an allow rule on a field a matcher flags). */
  readonly warnings: readonly Problem[];
  /** Keyed pseudonym of a user id for audit entries (HMAC with `audit.hashKey`); null without that key. */
  pseudonymize(userId: string): string | null;
  /** The matcher a field name hits (built-in or the policy's own), or null — what plans use. */
  classify(fieldName: string): Classification | null;
  /** `reviewedSchemaVersions[subject]`: the input schema version the policy was reviewed against. */
  reviewedSchemaVersion(subject: string): number | null;
}

export interface Destination {
  readonly name: string;
  /** Default `events.dest.<name>`. */
  readonly topic: string;
  readonly format: 'avro' | 'json';
  /** Content hash of this destination's normalized rules, matchers and key ids (16 hex chars). */
  readonly version: string;
  /** Keyed fingerprint of the HMAC key (never the key) and the encryption kids. */
  readonly keyIds: readonly string[];
  /** `headers: keep`. */
  readonly keepHeaders: boolean;
  /** The record key rule: hash → HMAC hex of the UTF-8 key, drop → null, keep → unchanged. */
  transformKey(key: Buffer | null): Buffer | null;
  /**
   * Compiles (and caches per Type) the plan for one writer schema. `options.writerSchema`, the
   * writer schema as JSON, is optional: with it, logical types (which an avsc Type built without
   * logical-type hooks forgets) are kept in the derived schema and inform `generalize`.
   * Throws PhiGateError('PHIGATE_ERR_PLAN') when the schema cannot be planned.
   */
  compile(writerType: avro.Type, options?: CompileOptions): Plan;
}

export interface CompileOptions {
  readonly writerSchema?: unknown;
}

export interface Plan {
  /** Derived Avro schema (JSON); deterministic for (writer schema, destination version). */
  readonly schema: object;
  /** avro.Type.forSchema(schema, { wrapUnions: 'auto' }); every delivered value is valid for it. */
  readonly type: avro.Type;
  apply(record: unknown): PlanResult;
  /** Natural JSON of a delivered value: unions unwrapped, bytes as base64. */
  toJson(value: unknown): string;
  /** Field rules of the destination that matched nothing in this writer schema (for `check`). */
  readonly unmatchedRules: readonly string[];
  /** Legal but probably unintended for this writer schema (for `check`), e.g. no consent preferences. */
  readonly warnings: readonly string[];
  /**
   * Every path of the writer schema (policy pattern syntax: `a.b`, `a[]`, `m.*`) → the rule that
   * governs it and what decided it (for the inventory). Decided at compile time, like everything.
   */
  readonly origins: ReadonlyMap<string, RuleOrigin>;
}

/**
 * `filtered`: the event filter (`events`) left it out; `filtered_consent`: the person did not
 * consent to a category the destination declares (or preferences are missing and `missing: drop`).
 */
export type Outcome = 'delivered' | 'filtered' | 'filtered_consent' | 'failed_closed';

export type PlanResult =
  | { readonly outcome: 'delivered'; readonly value: unknown; readonly decision: Decision }
  | { readonly outcome: 'filtered'; readonly decision: Decision }
  | {
      readonly outcome: 'filtered_consent';
      readonly decision: Decision;
      /** Which categories blocked it and why (also in `decision.fields` as `consent:<reason>`). */
      readonly blocked: readonly ConsentBlock[];
    }
  | { readonly outcome: 'failed_closed'; readonly decision: Decision; readonly error: PhiGateError };

/** What the audit entry records for one event × destination. Never a value. */
export interface Decision {
  readonly destination: string;
  readonly policyVersion: string;
  readonly outcome: Outcome;
  readonly eventType: string | null;
  readonly eventName: string | null;
  /** Field path → action; `[]` for array items, the map key for map entries. */
  readonly fields: Readonly<Record<string, string>>;
  readonly kids: readonly string[];
  readonly errorCode: string | null;
}
