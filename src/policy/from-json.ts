/**
 * Natural JSON → Avro value of a writer type, for `preview` and tests: the JSON a person writes for
 * a Segment event (unions unwrapped, optional fields left out, ISO 8601 timestamps where the schema
 * says timestamp-millis/micros or date, bytes as base64). Missing fields take their schema default;
 * a missing field without one is an error naming its path. Not used on the hot path.
 */
import type avro from 'avsc';
import { PhiGateError } from '../errors.ts';
import { type Annotation, annotate, NO_ANNOTATION } from './compile/annotations.ts';
import type { AvroNode } from './compile/env.ts';

interface FieldNode {
  readonly name: string;
  readonly type: AvroNode;
  defaultValue(): unknown;
}

function inputError(path: string, message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_INPUT', `${path || '(event)'}: ${message}`);
}

function timeValue(v: string, logical: unknown, path: string): number {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw inputError(path, 'is not an ISO 8601 date-time');
  if (logical === 'timestamp-micros' || logical === 'local-timestamp-micros') return ms * 1000;
  if (logical === 'date') return Math.floor(ms / 86_400_000);
  return ms;
}

function convert(type: AvroNode, v: unknown, ann: Annotation, path: string): unknown {
  switch (type.typeName) {
    case 'record':
    case 'error': {
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        throw inputError(path, 'must be an object');
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of (type.fields ?? []) as readonly FieldNode[]) {
        const at = path === '' ? f.name : `${path}.${f.name}`;
        if (o[f.name] === undefined) {
          const d = f.defaultValue();
          if (d === undefined) throw inputError(at, 'is required (no default in the schema)');
          out[f.name] = d;
        } else out[f.name] = convert(f.type, o[f.name], ann.field(f.name), at);
      }
      return out;
    }
    case 'array':
      if (!Array.isArray(v)) throw inputError(path, 'must be an array');
      return v.map((x) => convert(type.itemsType as AvroNode, x, ann.items(), `${path}[]`));
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        throw inputError(path, 'must be an object');
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        out[k] = convert(type.valuesType as AvroNode, x, ann.values(), `${path}.${k}`);
      return out;
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const types = type.types ?? [];
      if (v === null && types.some((t) => t.typeName === 'null')) return null;
      for (const [i, t] of types.entries()) {
        if (t.typeName === 'null') continue;
        try {
          const x = convert(t, v, ann.branch(i), path);
          if ((t as unknown as avro.Type).isValid(x))
            return type.typeName === 'union:wrapped' ? { [t.branchName as string]: x } : x;
        } catch {
          // try the next branch
        }
      }
      throw inputError(path, 'matches no branch of its union');
    }
    case 'long':
    case 'int':
      if (typeof v === 'string' && ann.logical !== undefined)
        return timeValue(v, ann.logical.logicalType, path);
      return v;
    case 'bytes':
      return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
    case 'fixed':
      return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
    default:
      return v;
  }
}

/** Returns a value valid for `type`, or throws PHIGATE_ERR_INPUT naming the first bad path. */
export function fromNaturalJson(type: avro.Type, value: unknown, writerSchema?: unknown): unknown {
  const ann = writerSchema === undefined ? NO_ANNOTATION : annotate(writerSchema);
  const out = convert(type as unknown as AvroNode, value, ann, '');
  const bad: string[] = [];
  type.isValid(out, { errorHook: (path: string[]) => bad.push(path.join('.')) });
  if (bad.length > 0) throw inputError(bad[0] ?? '', 'has a value of the wrong type');
  return out;
}
