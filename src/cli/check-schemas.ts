/**
 * What `phi-gate check` does with writer schemas: compile every destination against each one, and
 * — with the registry — test each derived schema the way the pipeline would register it
 * (`<destination topic>-value`, src/pipeline/routes.ts). A policy change that the registry would
 * refuse (a field that was a long becomes a hashed string, say) makes that destination fail closed
 * at run time; here it is a problem before deployment.
 */
import type avro from 'avsc';
import { isPhiGateError, type Problem } from '../errors.ts';
import type { Policy } from '../policy/index.ts';
import {
  fieldPaths,
  type InventoryEntry,
  inventoryOf,
  type ReviewedBaseline,
  suggestedRule,
} from '../policy/inventory.ts';
import type { RegistryClient } from '../registry/client.ts';
import { valueSubject, writerOf } from '../registry/schemas.ts';

/** One writer schema to check against: where it came from, its compiled type and its JSON. */
export interface WriterSchema {
  readonly label: string;
  readonly type: avro.Type;
  readonly schema: unknown;
  /** Known for registered schemas only. */
  readonly schemaId?: number;
  readonly subject?: string;
  readonly version?: number;
}

export interface DerivedSchema {
  readonly schema: string;
  readonly from: string[];
}

export interface SchemaCheck {
  readonly problems: Problem[];
  readonly warnings: Problem[];
  /** Per destination: its distinct derived Avro schemas (JSON text) and the writers that gave each. */
  readonly derived: Map<string, DerivedSchema[]>;
}

function fieldPath(destination: string, rule: string): string {
  return `destinations.${destination}.fields[${JSON.stringify(rule)}]`;
}

function intersection(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a].filter((x) => b.has(x)));
}

/**
 * Compiles every destination against every writer schema. A rule that matches no field of any of
 * them is a warning, and so is what a plan itself warns about (consent preferences the schema does not
 * have); a destination that does not compile is a problem (naming the writer schema).
 */
export function compileAgainst(policy: Policy, writers: readonly WriterSchema[]): SchemaCheck {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const derived = new Map<string, DerivedSchema[]>();
  for (const d of policy.destinations) {
    let unmatched: Set<string> | null = null;
    const schemas: DerivedSchema[] = [];
    const planWarnings = new Map<string, string[]>(); // message → the writers it applies to
    for (const w of writers) {
      try {
        const plan = d.compile(w.type, { writerSchema: w.schema });
        for (const message of plan.warnings)
          planWarnings.set(message, [...(planWarnings.get(message) ?? []), w.label]);
        const here = new Set(plan.unmatchedRules);
        unmatched = unmatched === null ? here : intersection(unmatched, here);
        if (d.format === 'avro') {
          const text = JSON.stringify(plan.schema);
          const same = schemas.find((s) => s.schema === text);
          if (same === undefined) schemas.push({ schema: text, from: [w.label] });
          else same.from.push(w.label);
        }
      } catch (err) {
        if (!isPhiGateError(err)) throw err;
        problems.push({ path: `destinations.${d.name}`, message: `${w.label}: ${err.code}: ${err.message}` });
      }
    }
    derived.set(d.name, schemas);
    for (const [message, labels] of planWarnings)
      warnings.push({ path: `destinations.${d.name}`, message: `${labels.join(', ')}: ${message}` });
    for (const rule of unmatched ?? []) {
      const where = writers.length === 1 ? 'the schema' : 'any of the schemas';
      warnings.push({ path: fieldPath(d.name, rule), message: `matches no field of ${where}` });
    }
  }
  return { problems, warnings, derived };
}

/** The registered versions of `subject`, compiled; none registered is a problem of its own. */
export async function registeredWriters(
  client: RegistryClient,
  subject: string,
): Promise<{ writers: WriterSchema[]; problems: Problem[] }> {
  const versions = await client.subjectVersions(subject);
  if (versions.length === 0) {
    return {
      writers: [],
      problems: [{ path: subject, message: 'has no registered schema: nothing to check the policy against' }],
    };
  }
  const writers: WriterSchema[] = [];
  const problems: Problem[] = [];
  for (const version of versions) {
    const label = `${subject} version ${version}`;
    try {
      const registered = await client.subjectSchema(subject, version);
      writers.push({ label, schemaId: registered.id, subject, version, ...writerOf(registered, label) });
    } catch (err) {
      if (!isPhiGateError(err, 'PHIGATE_ERR_BAD_SCHEMA')) throw err;
      problems.push({ path: subject, message: err.message });
    }
  }
  return { writers, problems };
}

/** Tests each destination's derived schemas against its subject, as registration would. */
export async function registrable(
  client: RegistryClient,
  policy: Policy,
  derived: ReadonlyMap<string, readonly DerivedSchema[]>,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const d of policy.destinations) {
    const subject = valueSubject(d.topic);
    for (const { schema, from } of derived.get(d.name) ?? []) {
      if (await client.isCompatible(subject, schema)) continue;
      problems.push({
        path: `destinations.${d.name}`,
        message:
          `the derived schema for ${from.join(', ')} is not compatible with what ${subject} holds under its ` +
          `compatibility level: the registry would refuse it and the destination would fail closed (a field ` +
          'whose type changes, e.g. a number that allow → hash turns into a string, is the usual cause)',
      });
    }
  }
  return problems;
}

/**
 * The inventory of every writer schema (flat, and one list per writer in the writers' order), with
 * fields new since the policy's reviewed version of their subject marked. A reviewed version that is not among the writers is a warning (nothing can
 * be compared with it).
 */
export function inventoryOfWriters(
  policy: Policy,
  writers: readonly WriterSchema[],
): { entries: InventoryEntry[]; perWriter: InventoryEntry[][]; warnings: Problem[] } {
  const warnings: Problem[] = [];
  const baselines = new Map<string, ReviewedBaseline | null>();
  const baselineOf = (subject: string | undefined): ReviewedBaseline | null => {
    if (subject === undefined) return null;
    const cached = baselines.get(subject);
    if (cached !== undefined) return cached;
    const version = policy.reviewedSchemaVersion(subject);
    let baseline: ReviewedBaseline | null = null;
    if (version !== null) {
      const w = writers.find((x) => x.subject === subject && x.version === version);
      if (w === undefined) {
        warnings.push({
          path: `reviewedSchemaVersions[${JSON.stringify(subject)}]`,
          message: `version ${version} is not registered under ${subject}: unreviewed fields cannot be told`,
        });
      } else baseline = { version, paths: fieldPaths(w.type, w.schema) };
    }
    baselines.set(subject, baseline);
    return baseline;
  };
  const perWriter = writers.map((w) => inventoryOf(policy, w, baselineOf(w.subject)));
  return { entries: perWriter.flat(), perWriter, warnings };
}

/**
 * One warning per (destination, unreviewed field), at the first version it appears in, with the
 * rule a reviewer would most likely add.
 */
export function unreviewedWarnings(policy: Policy, entries: readonly InventoryEntry[]): Problem[] {
  const seen = new Set<string>();
  const warnings: Problem[] = [];
  for (const e of entries) {
    for (const [name, cell] of Object.entries(e.destinations)) {
      if (!cell.unreviewed || seen.has(`${name}\u0000${e.path}`)) continue;
      seen.add(`${name}\u0000${e.path}`);
      const reviewed = e.subject === null ? null : policy.reviewedSchemaVersion(e.subject);
      const flagged = e.classification === null ? '' : `, the '${e.classification.matcher}' matcher flags it`;
      const decided = cell.rule === 'explicit' ? `explicit: ${cell.rulePath}` : cell.rule;
      const suggested = suggestedRule(e);
      warnings.push({
        path: fieldPath(name, suggested.path),
        message:
          `unreviewed: new in ${e.subject} version ${e.version} (reviewed against version ${reviewed})${flagged}; ` +
          `no rule names it, so it gets ${cell.action} (${decided}). Suggested rule: ${suggested.path}: ${suggested.rule}`,
      });
    }
  }
  return warnings;
}
