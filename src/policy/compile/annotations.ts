/**
 * Logical-type annotations from the writer schema JSON. An avsc Type built without logical-type
 * hooks forgets `logicalType` (timestamp-millis becomes a plain long); when the caller also hands
 * us the schema JSON we walk it beside the Type, so that allowed fields keep their annotation in the
 * derived schema and `generalize` knows a date from a timestamp.
 */

type Json = unknown;
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
/** Attributes of a logical type that are part of its meaning. */
const LOGICAL_ATTRS = ['logicalType', 'precision', 'scale'] as const;

export interface Annotation {
  /** `logicalType` (+ precision/scale) of this node, if any. */
  readonly logical: Readonly<Record<string, unknown>> | undefined;
  field(name: string): Annotation;
  items(): Annotation;
  values(): Annotation;
  branch(index: number): Annotation;
}

export const NO_ANNOTATION: Annotation = Object.freeze({
  logical: undefined,
  field: () => NO_ANNOTATION,
  items: () => NO_ANNOTATION,
  values: () => NO_ANNOTATION,
  branch: () => NO_ANNOTATION,
});

const isObj = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

/** Collects every named definition by full name (references are resolved through it). */
function collect(
  node: Json,
  namespace: string | undefined,
  out: Map<string, { node: Json; ns: string | undefined }>,
): void {
  if (Array.isArray(node)) {
    for (const b of node) collect(b, namespace, out);
    return;
  }
  if (!isObj(node)) return;
  let ns = namespace;
  if (
    typeof node.name === 'string' &&
    (node.type === 'record' || node.type === 'error' || node.type === 'enum' || node.type === 'fixed')
  ) {
    const full = qualify(node.name, typeof node.namespace === 'string' ? node.namespace : namespace);
    ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
    if (!out.has(full)) out.set(full, { node, ns });
  }
  if (Array.isArray(node.fields)) for (const f of node.fields) if (isObj(f)) collect(f.type, ns, out);
  if (node.items !== undefined) collect(node.items, ns, out);
  if (node.values !== undefined) collect(node.values, ns, out);
  if (isObj(node.type) || Array.isArray(node.type)) collect(node.type, ns, out);
}

export function annotate(schema: Json): Annotation {
  const named = new Map<string, { node: Json; ns: string | undefined }>();
  collect(schema, undefined, named);

  const make = (raw: Json, namespace: string | undefined): Annotation => {
    let node = raw;
    let ns = namespace;
    if (typeof node === 'string' && !PRIMITIVES.has(node)) {
      const def = named.get(qualify(node, ns)) ?? named.get(node);
      if (def === undefined) return NO_ANNOTATION;
      node = def.node;
      ns = def.ns;
    }
    // `{ "type": { … } }` wrappers around a type.
    while (isObj(node) && (isObj(node.type) || Array.isArray(node.type))) node = node.type;
    if (
      isObj(node) &&
      typeof node.name === 'string' &&
      (node.type === 'record' || node.type === 'error' || node.type === 'enum' || node.type === 'fixed')
    ) {
      const full = qualify(node.name, typeof node.namespace === 'string' ? node.namespace : ns);
      ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
    }
    const n = node;
    let logical: Record<string, unknown> | undefined;
    if (isObj(n) && typeof n.logicalType === 'string') {
      logical = {};
      for (const k of LOGICAL_ATTRS) if (n[k] !== undefined) logical[k] = n[k];
    }
    return {
      logical,
      field(name) {
        if (!isObj(n) || !Array.isArray(n.fields)) return NO_ANNOTATION;
        const f = n.fields.find((x) => isObj(x) && x.name === name);
        return isObj(f) ? make(f.type, ns) : NO_ANNOTATION;
      },
      items: () => (isObj(n) && n.items !== undefined ? make(n.items, ns) : NO_ANNOTATION),
      values: () => (isObj(n) && n.values !== undefined ? make(n.values, ns) : NO_ANNOTATION),
      branch: (i) => (Array.isArray(n) ? make(n[i], ns) : NO_ANNOTATION),
    };
  };
  return make(schema, undefined);
}
