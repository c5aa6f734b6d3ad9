/**
 * Event identity and destination filters. Call type = the top-level `type` field; event name =
 * `event` for track, `name` for page and screen (a schema without `type` uses `event` if it has
 * one). Both are read by getters compiled per writer schema; a schema without those fields gives
 * null. Filters: `events.drop` wins; `events.allow` absent = every event; an entry matches the call
 * type or the event name (`page` lets all page calls through).
 */
import type { AvroNode } from './compile/env.ts';

export interface EventIdentity {
  type(record: unknown): string | null;
  name(record: unknown, type: string | null): string | null;
}

/** Reads a top-level field as a string, unwrapping a wrapped union; anything else is null. */
function stringGetter(root: AvroNode, field: string): ((record: unknown) => string | null) | null {
  const f = root.fields?.find((x) => x.name === field);
  if (f === undefined) return null;
  const wrapped = f.type.typeName === 'union:wrapped';
  return (record) => {
    let v = (record as Record<string, unknown>)[field];
    if (wrapped && v !== null && typeof v === 'object')
      for (const k in v) v = (v as Record<string, unknown>)[k];
    return typeof v === 'string' ? v : null;
  };
}

export function compileEventIdentity(root: AvroNode): EventIdentity {
  const isRecord = root.typeName === 'record' || root.typeName === 'error';
  const type = isRecord ? stringGetter(root, 'type') : null;
  const event = isRecord ? stringGetter(root, 'event') : null;
  const name = isRecord ? stringGetter(root, 'name') : null;
  return {
    type: type ?? (() => null),
    name(record, t) {
      if (type === null) return event === null ? null : event(record);
      if (t === 'track') return event === null ? null : event(record);
      if (t === 'page' || t === 'screen') return name === null ? null : name(record);
      return null;
    },
  };
}

export function compileEventFilter(
  allow: readonly string[] | null,
  drop: readonly string[],
): (type: string | null, name: string | null) => boolean {
  const allowSet = allow === null ? null : new Set(allow);
  const dropSet = new Set(drop);
  return (type, name) => {
    if ((type !== null && dropSet.has(type)) || (name !== null && dropSet.has(name))) return false;
    if (allowSet === null) return true;
    return (type !== null && allowSet.has(type)) || (name !== null && allowSet.has(name));
  };
}
