/**
 * `url: { keepQuery, keepPath }`: an http(s) URL reduced to scheme, host and port, plus the path
 * when keepPath, plus only the listed query parameters (in their original order). User info and
 * fragment always go. Anything that is not an absolute http(s) URL throws (fail closed): a value
 * we cannot parse is a value we cannot vouch for. The empty string stays empty.
 */
import { PhiGateError } from '../../errors.ts';
import { scalarText } from './text.ts';
import type { ActionFn } from './types.ts';

export function createUrlAction(keepQuery: readonly string[], keepPath: boolean): ActionFn {
  const keep = new Set(keepQuery);
  return (value) => {
    const text = scalarText(value).trim();
    if (text === '') return '';
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      // The TypeError carries the input: never attach it.
      throw new PhiGateError('PHIGATE_ERR_ACTION', 'url: value is not an absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PhiGateError('PHIGATE_ERR_ACTION', 'url: only http and https URLs can be kept');
    }
    let out = `${url.protocol}//${url.host}${keepPath ? url.pathname : '/'}`;
    if (keep.size > 0 && url.search !== '') {
      const query = keptQuery(url.search, keep);
      if (query !== '') out += `?${query}`;
    }
    return out;
  };
}

/**
 * The listed parameters of `search` ("?a=1&b=2", ASCII as a URL parser leaves it), in order, as
 * URLSearchParams would give them:
 * parsed as application/x-www-form-urlencoded (WHATWG URL §5.1), then serialized again (§5.2).
 * Written out because the objects cost more than the rest of the action: `url.searchParams` parses
 * every parameter into a new URLSearchParams, and a second one serialized the kept ones.
 * test/unit/policy/actions/url.test.ts checks it against URLSearchParams on random queries.
 */
export function keptQuery(search: string, keep: ReadonlySet<string>): string {
  let out = '';
  for (const part of search.slice(search.startsWith('?') ? 1 : 0).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = formDecode(eq === -1 ? part : part.slice(0, eq));
    if (!keep.has(name)) continue;
    const value = eq === -1 ? '' : formDecode(part.slice(eq + 1));
    out += `${out === '' ? '' : '&'}${formEncode(name)}=${formEncode(value)}`;
  }
  return out;
}

/** '+' is a space; %XX sequences are UTF-8 bytes (malformed ones stay as they are, bad UTF-8 → U+FFFD). */
function formDecode(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  const bytes = Buffer.from(spaced, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const hi = b === 0x25 && i + 2 < bytes.length ? hexValue(bytes[i + 1] as number) : -1;
    const lo = hi === -1 ? -1 : hexValue(bytes[i + 2] as number);
    if (lo === -1) out[n++] = b;
    else {
      out[n++] = (hi << 4) | lo;
      i += 2;
    }
  }
  return out.toString('utf8', 0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** What the urlencoded serializer leaves alone: ASCII alphanumerics and *-._ (by char code). */
const FORM_SAFE = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._')
  FORM_SAFE[c.charCodeAt(0)] = 1;

function formSafe(code: number): boolean {
  return code < 128 && FORM_SAFE[code] === 1;
}

/** Space → '+', every other byte of the UTF-8 outside the safe set → %XX (upper case). */
function formEncode(text: string): string {
  let i = 0;
  while (i < text.length && formSafe(text.charCodeAt(i))) i++;
  if (i === text.length) return text;
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    if (b === 0x20) out += '+';
    else if (formSafe(b)) out += String.fromCharCode(b);
    else out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}
