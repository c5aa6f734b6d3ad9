/**
 * Names of derived named types: deterministic, unique per schema position, in namespace
 * `phigate.<destination>`. A writer record reused at two paths may get two different derived shapes,
 * so the name comes from the path (`properties_items_Item`), not from the writer's name alone.
 * Map entries count as one position whatever their key, so every key's variant of a record shares
 * one name and can be merged into one definition.
 */
import type { PathStep } from '../paths.ts';

function avroIdentifier(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

/** `phigate.<destination>` with the destination name made a valid Avro namespace component. */
export function derivedNamespace(destination: string): string {
  return `phigate.${avroIdentifier(destination)}`;
}

export class Namer {
  readonly namespace: string;
  readonly #byPosition = new Map<string, string>();
  readonly #taken = new Set<string>();

  constructor(namespace: string) {
    this.namespace = namespace;
  }

  /** Full name for the record at `steps` whose writer type is named `writerName`. */
  recordName(steps: readonly PathStep[], writerName: string): string {
    const short = writerName.slice(writerName.lastIndexOf('.') + 1);
    const position = `${steps.map((s) => (s.kind === 'field' ? s.name : s.kind === 'items' ? '[]' : '*')).join('/')}|${writerName}`;
    const known = this.#byPosition.get(position);
    if (known !== undefined) return known;
    const parts = steps.map((s) => (s.kind === 'field' ? s.name : s.kind === 'items' ? 'item' : 'value'));
    const base = avroIdentifier([...parts, short].join('_'));
    let name = `${this.namespace}.${base}`;
    for (let i = 2; this.#taken.has(name); i++) name = `${this.namespace}.${base}_${i}`;
    this.#taken.add(name);
    this.#byPosition.set(position, name);
    return name;
  }
}
