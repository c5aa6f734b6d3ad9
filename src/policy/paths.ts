/**
 * Field path patterns, parsed once at policy load.
 *
 *   properties.email          dot-separated field names / map keys
 *   properties.items[].sku    `[]` = each item of an array (binds to the segment before it, no dot)
 *   properties.extras.*       `*`  = exactly one field name or map key
 *   properties.extras["a.b"]  a quoted segment for map keys holding `.`, `[`, `]`, `*` or `"`
 *
 * A pattern is a token list; it is matched against the concrete paths of a writer schema at compile
 * time (see resolve.ts), never against data per record.
 */

export type PathToken =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'items' };

export interface PathPattern {
  /** The text as written in the policy (the rule's key). */
  readonly source: string;
  readonly tokens: readonly PathToken[];
  /** Number of literal name tokens: more is more specific. */
  readonly literals: number;
}

export type ParseResult =
  | { readonly ok: true; readonly pattern: PathPattern }
  | { readonly ok: false; readonly error: string };

const PLAIN_SEGMENT = /^[^.[\]*"\s]+$/;
const ITEMS: PathToken = Object.freeze({ kind: 'items' });
const STAR: PathToken = Object.freeze({ kind: 'star' });

/** Reads a `["…"]` segment starting at `i` (at the `[`); returns the key and the index after `]`. */
function readQuoted(text: string, i: number): { key: string; end: number } | string {
  let j = i + 2;
  let key = '';
  while (j < text.length && text[j] !== '"') {
    if (text[j] === '\\') {
      const next = text[j + 1];
      if (next !== '"' && next !== '\\') return `bad escape at offset ${j}`;
      key += next;
      j += 2;
    } else {
      key += text[j];
      j += 1;
    }
  }
  if (text[j] !== '"' || text[j + 1] !== ']') return `unterminated quoted segment at offset ${i}`;
  if (key.length === 0) return `empty quoted segment at offset ${i}`;
  return { key, end: j + 2 };
}

export function parsePath(text: string): ParseResult {
  if (text.length === 0) return { ok: false, error: 'empty path' };
  const tokens: PathToken[] = [];
  let i = 0;
  let expectSegment = true; // at the start or after a dot
  while (i < text.length) {
    const c = text[i];
    if (c === '[' && text[i + 1] === ']') {
      if (expectSegment && tokens.length > 0)
        return { ok: false, error: `'[]' must follow a segment, not a dot (offset ${i})` };
      tokens.push(ITEMS);
      i += 2;
      expectSegment = false;
      continue;
    }
    if (c === '[' && text[i + 1] === '"') {
      const q = readQuoted(text, i);
      if (typeof q === 'string') return { ok: false, error: q };
      tokens.push({ kind: 'name', name: q.key });
      i = q.end;
      expectSegment = false;
      continue;
    }
    if (c === '[')
      return { ok: false, error: `only [] (each item) and ["key"] are allowed in brackets (offset ${i})` };
    if (c === '.') {
      if (expectSegment) return { ok: false, error: `empty segment at offset ${i}` };
      expectSegment = true;
      i += 1;
      // `a.["b"]` and `a.b` are both fine (the quoted branch above reads the next segment); `a.[]` is not.
      continue;
    }
    if (!expectSegment) return { ok: false, error: `expected '.' or '[]' at offset ${i}` };
    let j = i;
    while (j < text.length && text[j] !== '.' && text[j] !== '[') j += 1;
    const segment = text.slice(i, j);
    if (segment === '*') tokens.push(STAR);
    else if (segment === '**')
      return { ok: false, error: `'**' is not supported; '*' matches exactly one segment` };
    else if (!PLAIN_SEGMENT.test(segment)) {
      return { ok: false, error: `segment '${segment}' has a character that needs quoting (use ["…"])` };
    } else tokens.push({ kind: 'name', name: segment });
    i = j;
    expectSegment = false;
  }
  if (expectSegment) return { ok: false, error: 'path ends with a dot' };
  const literals = tokens.reduce((n, t) => n + (t.kind === 'name' ? 1 : 0), 0);
  return { ok: true, pattern: Object.freeze({ source: text, tokens: Object.freeze(tokens), literals }) };
}

/** A step of a concrete path in a writer schema: a record field, an array item, or a map entry. */
export type PathStep =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'items' }
  /** A map entry; `key` null stands for "any key not named by a literal pattern". */
  | { readonly kind: 'key'; readonly key: string | null };

export function tokenMatches(token: PathToken, step: PathStep): boolean {
  switch (token.kind) {
    case 'items':
      return step.kind === 'items';
    case 'star':
      return step.kind !== 'items';
    case 'name':
      return (
        (step.kind === 'field' && step.name === token.name) ||
        (step.kind === 'key' && step.key === token.name)
      );
  }
}

/** True when `pattern` matches the first `steps.length` steps exactly (used for prefixes too). */
export function matchesPrefix(pattern: PathPattern, steps: readonly PathStep[], length: number): boolean {
  if (pattern.tokens.length < length) return false;
  for (let i = 0; i < length; i++) {
    const token = pattern.tokens[i];
    const step = steps[i];
    if (token === undefined || step === undefined || !tokenMatches(token, step)) return false;
  }
  return true;
}

/** Display form of a concrete path (audit entries, decisions): `a.b`, `a[]`, `m.<key>`. */
export function appendStep(prefix: string, step: PathStep): string {
  if (step.kind === 'items') return `${prefix}[]`;
  const name = step.kind === 'field' ? step.name : (step.key ?? '*');
  return prefix === '' ? name : `${prefix}.${name}`;
}

export const ITEMS_STEP: PathStep = Object.freeze({ kind: 'items' });
