/**
 * Display form of a location inside the policy document, as every problem reports it:
 * `destinations.mixpanel.fields["properties.dob"]`, `matchers.custom[0].values`.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export type Segment = string | number;

export function displayPath(segments: readonly Segment[]): string {
  let out = '';
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Segment;
    // Keys of `fields` are paths themselves (dots inside): always quote them.
    const quote = segments[i - 1] === 'fields' || typeof s !== 'string' || !IDENTIFIER.test(s);
    if (typeof s === 'number') out += `[${s}]`;
    else if (quote) out += `[${JSON.stringify(s)}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** JSON pointer (as ajv reports it) → segments, with array indices as numbers (decided by the data). */
export function pointerSegments(pointer: string, data: unknown): Segment[] {
  if (pointer === '') return [];
  const out: Segment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      out.push(index);
      node = node[index];
    } else {
      out.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}
