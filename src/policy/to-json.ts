/**
 * Natural JSON for `format: json` destinations and `preview`: what a person would write — wrapped
 * unions unwrapped, bytes and fixed as base64 — not Avro's JSON encoding. The converter is built
 * once per derived type; a type without wrapped unions or bytes needs none (plain JSON.stringify).
 */
import type { AvroNode } from './compile/env.ts';
import { bucketOf } from './compile/schema-json.ts';
import { valueBucket } from './compile/unions.ts';

type Convert = (v: unknown) => unknown;

function build(type: AvroNode): Convert | null {
  switch (type.typeName) {
    case 'bytes':
    case 'fixed':
      return (v) => (v as Buffer).toString('base64');
    case 'record':
    case 'error': {
      const parts = (type.fields ?? []).map((f) => ({ name: f.name, c: build(f.type) }));
      if (parts.every((p) => p.c === null)) return null;
      return (v) => {
        const r = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const p of parts) out[p.name] = p.c === null ? r[p.name] : p.c(r[p.name]);
        return out;
      };
    }
    case 'array': {
      const c = build(type.itemsType as AvroNode);
      return c === null ? null : (v) => (v as unknown[]).map(c);
    }
    case 'map': {
      const c = build(type.valuesType as AvroNode);
      if (c === null) return null;
      return (v) => {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = c(x);
        return out;
      };
    }
    case 'union:wrapped': {
      const byName = new Map((type.types ?? []).map((t) => [t.branchName as string, build(t)]));
      return (v) => {
        if (v === null) return null;
        for (const k in v as Record<string, unknown>) {
          const x = (v as Record<string, unknown>)[k];
          const c = byName.get(k);
          return c ? c(x) : x;
        }
        return null;
      };
    }
    case 'union:unwrapped': {
      const byBucket = new Map<string, Convert>();
      for (const t of type.types ?? []) {
        const c = build(t);
        if (c !== null) byBucket.set(bucketOf(t.typeName), c);
      }
      if (byBucket.size === 0) return null;
      return (v) => {
        if (v === null) return null;
        const c = byBucket.get(valueBucket(v));
        return c === undefined ? v : c(v);
      };
    }
    default:
      return null;
  }
}

export function compileToJson(type: AvroNode): (value: unknown) => string {
  const c = build(type);
  return c === null ? (v) => JSON.stringify(v) : (v) => JSON.stringify(c(v));
}
