/**
 * JSON-schema validation of the parsed policy (schemas/policy.schema.json, compiled once per
 * process). Fills in defaults (ajv useDefaults) and turns ajv's errors into one Problem per
 * mistake, each with its display path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closestName } from '../config/suggest.ts';
import type { Problem } from '../errors.ts';
import { packageRoot } from './package-root.ts';
import { displayPath, pointerSegments, type Segment } from './problem-path.ts';

let compiled: ValidateFunction | undefined;

export function policySchema(): object {
  return JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'policy.schema.json'), 'utf8')) as object;
}

function validator(): ValidateFunction {
  if (compiled === undefined) {
    // verbose: errors carry the offending value (err.data), for did-you-mean suggestions
    const ajv = new Ajv({
      allErrors: true,
      useDefaults: true,
      strict: true,
      strictTypes: false,
      verbose: true,
    });
    compiled = ajv.compile(policySchema());
  }
  return compiled;
}

/** The allowed value a mistyped one most likely meant (`hashh` → `hash`), compared case-insensitively. */
function suggestion(value: unknown, allowed: readonly unknown[]): string {
  if (typeof value !== 'string') return '';
  const names = allowed.map((v) => String(v));
  const upper = names.map((n) => n.toUpperCase());
  const guess = closestName(value, upper);
  return guess === undefined ? '' : `did you mean ${names[upper.indexOf(guess)]}? `;
}

function describe(err: ErrorObject, value: unknown): string {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = suggestion(p.additionalProperty, known);
      return guess === '' ? 'unknown key' : `unknown key: ${guess.trim()}`;
    }
    case 'enum': {
      const allowed = p.allowedValues as unknown[];
      const list = allowed.map((v) => String(v)).join(', ');
      const guess = suggestion(value, allowed);
      // a field rule's string is an action name: say so, instead of a bare enum complaint
      if (err.schemaPath.endsWith('/rule/then/enum'))
        return `unknown action ${JSON.stringify(value)}${guess === '' ? ' ' : `: ${guess}`}(actions: ${list}, or a mapping with one of sha256, generalize, mask, url)`;
      return guess === '' ? `must be one of: ${list}` : `${guess}(must be one of: ${list})`;
    }
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'required':
      return 'is required';
    case 'propertyNames':
      return 'name is not allowed';
    case 'minProperties':
    case 'maxProperties':
      if (err.schemaPath.includes('keySource')) return 'must have exactly one of: file, env';
      if (err.schemaPath.includes('/rule/')) return 'must have exactly one of: sha256, generalize, mask, url';
      return err.message ?? 'invalid';
    case 'pattern':
      return `does not match ${String(p.pattern)}`;
    case 'minItems':
      return `must list at least ${String(p.limit)}`;
    case 'uniqueItems':
      return `lists the same entry twice (items ${String(p.j)} and ${String(p.i)})`;
    default:
      return err.message ?? 'invalid';
  }
}

/** Validates in place (defaults filled) and returns every problem found. */
export function validatePolicyShape(data: unknown): Problem[] {
  const validate = validator();
  if (validate(data)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    // `if` only says "the then/else branch failed"; the branch's own errors say what is wrong.
    if (err.keyword === 'if') continue;
    const segments: Segment[] = pointerSegments(err.instancePath, data);
    if (err.keyword === 'additionalProperties')
      segments.push(String((err.params as { additionalProperty: string }).additionalProperty));
    if (err.keyword === 'required')
      segments.push(String((err.params as { missingProperty: string }).missingProperty));
    if (err.keyword === 'propertyNames')
      segments.push(String((err.params as { propertyName: string }).propertyName));
    // propertyNames also reports the pattern error under the same name: keep one.
    if (err.keyword === 'pattern' && err.schemaPath.includes('propertyNames')) continue;
    const problem = { path: displayPath(segments), message: describe(err, err.data) };
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}
