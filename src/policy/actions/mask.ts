/**
 * `mask: { keepFirst, keepLast }`: every character (code point) but the first `keepFirst` and the
 * last `keepLast` becomes `*`; the length is kept. A value not longer than keepFirst + keepLast is
 * masked entirely — keeping "the last 4" of a 4-character value would reveal all of it.
 */
import { scalarText } from './text.ts';
import type { ActionFn } from './types.ts';

export function createMaskAction(keepFirst: number, keepLast: number): ActionFn {
  return (value) => {
    const chars = Array.from(scalarText(value));
    const n = chars.length;
    if (n <= keepFirst + keepLast) return '*'.repeat(n);
    return (
      chars.slice(0, keepFirst).join('') +
      '*'.repeat(n - keepFirst - keepLast) +
      chars.slice(n - keepLast).join('')
    );
  };
}
