/**
 * Natural JSON → Avro value of a writer type, for `preview` and tests: the JSON a person writes for
 * a Segment event (unions unwrapped, optional fields left out, ISO 8601 timestamps where the schema
 * says timestamp-millis/micros or date, bytes as base64). Missing fields take their schema default;
 * a missing field without one is an error naming its path; every mismatch is reported at once.
 * Not used on the hot path.
 */
import type avro from 'avsc';
import { PhiGateError, type Problem } from '../errors.ts';
import { type Annotation, annotate, NO_ANNOTATION } from './compile/annotations.ts';
import type { AvroNode } from './compile/env.ts';

interface FieldNode {
  readonly name: string;
  readonly type: AvroNode;
  defaultValue(): unknown;
}

/**
 * What one conversion found: every mismatch (not only the first), and the fields of the JSON that
 * the schema does not have (dropped, as Avro would never carry them). Map entries are named `*`:
 * keys are data.
 */
class Findings {
  readonly problems: Problem[] = [];
  readonly ignored: string[] = [];
  readonly #seen = new Set<string>();

  problem(path: string, message: string): undefined {
    const at = path || '(event)';
    const key = `${at}\u0000${message}`;
    if (!this.#seen.has(key)) {
      this.#seen.add(key);
      this.problems.push({ path: at, message });
    }
    return undefined;
  }

  ignore(path: string): void {
    if (!this.ignored.includes(path)) this.ignored.push(path);
  }
}

function timeValue(v: string, logical: unknown, path: string, found: Findings): number | undefined {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return found.problem(path, 'is not an ISO 8601 date-time');
  if (logical === 'timestamp-micros' || logical === 'local-timestamp-micros') return ms * 1000;
  if (logical === 'date') return Math.floor(ms / 86_400_000);
  return ms;
}

function convert(type: AvroNode, v: unknown, ann: Annotation, path: string, found: Findings): unknown {
  switch (type.typeName) {
    case 'record':
    case 'error': {
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        return found.problem(path, 'must be an object');
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const fields = (type.fields ?? []) as readonly FieldNode[];
      for (const f of fields) {
        const at = path === '' ? f.name : `${path}.${f.name}`;
        if (o[f.name] === undefined) {
          const d = f.defaultValue();
          if (d === undefined) found.problem(at, 'is required (no default in the schema)');
          out[f.name] = d;
        } else out[f.name] = convert(f.type, o[f.name], ann.field(f.name), at, found);
      }
      const known = new Set(fields.map((f) => f.name));
      for (const name of Object.keys(o))
        if (!known.has(name)) found.ignore(path === '' ? name : `${path}.${name}`);
      return out;
    }
    case 'array':
      if (!Array.isArray(v)) return found.problem(path, 'must be an array');
      return v.map((x) => convert(type.itemsType as AvroNode, x, ann.items(), `${path}[]`, found));
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        return found.problem(path, 'must be an object');
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        out[k] = convert(type.valuesType as AvroNode, x, ann.values(), `${path}.*`, found);
      return out;
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const types = type.types ?? [];
      if (v === null && types.some((t) => t.typeName === 'null')) return null;
      for (const [i, t] of types.entries()) {
        if (t.typeName === 'null') continue;
        // each branch is tried on its own findings: only the branch taken reports what it ignored
        const trial = new Findings();
        const x = convert(t, v, ann.branch(i), path, trial);
        if (trial.problems.length === 0 && (t as unknown as avro.Type).isValid(x)) {
          for (const ignored of trial.ignored) found.ignore(ignored);
          return type.typeName === 'union:wrapped' ? { [t.branchName as string]: x } : x;
        }
      }
      return found.problem(path, 'matches no branch of its union');
    }
    case 'long':
    case 'int':
      if (typeof v === 'string' && ann.logical !== undefined)
        return timeValue(v, ann.logical.logicalType, path, found);
      return leaf(type, v, path, found);
    case 'bytes':
    case 'fixed':
      return leaf(type, typeof v === 'string' ? Buffer.from(v, 'base64') : v, path, found);
    default:
      return leaf(type, v, path, found);
  }
}

/** A scalar (string, number, boolean, enum, bytes …) as it is, when the type accepts it. */
function leaf(type: AvroNode, v: unknown, path: string, found: Findings): unknown {
  return (type as unknown as avro.Type).isValid(v) ? v : found.problem(path, 'has a value of the wrong type');
}

/**
 * Converts natural JSON to a value valid for `type`, and lists the JSON's fields that the schema
 * does not have (they are dropped).
 * @throws PhiGateError PHIGATE_ERR_INPUT with one problem per mismatch, all at once.
 */
export function naturalJson(
  type: avro.Type,
  value: unknown,
  writerSchema?: unknown,
): { value: unknown; ignored: readonly string[] } {
  const ann = writerSchema === undefined ? NO_ANNOTATION : annotate(writerSchema);
  const found = new Findings();
  const out = convert(type as unknown as AvroNode, value, ann, '', found);
  if (found.problems.length === 0) {
    // what the conversion does not judge (a string where an int belongs): every leaf avsc rejects
    type.isValid(out, {
      errorHook: (path: string[]) => found.problem(path.join('.'), 'has a value of the wrong type'),
    });
  }
  if (found.problems.length > 0) {
    throw new PhiGateError('PHIGATE_ERR_INPUT', 'event does not fit the schema', {
      problems: found.problems,
    });
  }
  return { value: out, ignored: found.ignored };
}

/** naturalJson's value alone. */
export function fromNaturalJson(type: avro.Type, value: unknown, writerSchema?: unknown): unknown {
  return naturalJson(type, value, writerSchema).value;
}
