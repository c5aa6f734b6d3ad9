/**
 * JSON-schema validation of the parsed policy (schemas/policy.schema.json, compiled once per
 * process). Fills in defaults (ajv useDefaults) and turns ajv's errors into one Problem per
 * mistake, each with its display path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Problem } from '../errors.ts';
import { packageRoot } from './package-root.ts';
import { displayPath, pointerSegments, type Segment } from './problem-path.ts';

let compiled: ValidateFunction | undefined;

export function policySchema(): object {
  return JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'policy.schema.json'), 'utf8')) as object;
}

function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false });
    compiled = ajv.compile(policySchema());
  }
  return compiled;
}

function describe(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return 'unknown key';
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
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
    const problem = { path: displayPath(segments), message: describe(err) };
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}
