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
      const kept = new URLSearchParams();
      for (const [k, v] of url.searchParams) if (keep.has(k)) kept.append(k, v);
      const query = kept.toString();
      if (query !== '') out += `?${query}`;
    }
    return out;
  };
}
