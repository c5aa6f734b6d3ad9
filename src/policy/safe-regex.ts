/**
 * Screens user-supplied value regexes (custom matchers) at policy load. JavaScript regexes
 * backtrack, so a pattern like `(a+)+$` can take exponential time on a crafted value — on the hot
 * path, per record. We accept only patterns without the constructs that cause it:
 * backreferences, lookaround, and a repeated group that itself contains a quantifier or an
 * alternation. What remains runs in polynomial time of low degree; patterns must also not match the
 * empty string (a detector that matches nothing would redact between every character).
 */

export function checkValueRegex(source: string): string | null {
  try {
    new RegExp(source, 'g');
  } catch {
    return 'is not a valid regular expression';
  }
  if (new RegExp(source).test('')) return 'matches the empty string';

  // Per open group: did it contain a quantifier or an alternation?
  const stack: { risky: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k'))
        return 'uses a backreference (not allowed: it defeats linear-time matching)';
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      if (
        source.startsWith('(?=', i) ||
        source.startsWith('(?!', i) ||
        source.startsWith('(?<=', i) ||
        source.startsWith('(?<!', i)
      ) {
        return 'uses lookaround (not allowed)';
      }
      stack.push({ risky: false });
      continue;
    }
    if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.risky = true;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '{';
    if (c === ')') {
      const group = stack.pop();
      const next = source[i + 1];
      const repeated =
        next === '*' || next === '+' || (next === '{' && !/^\{0?,?1\}/.test(source.slice(i + 1)));
      if (group?.risky && repeated)
        return 'repeats a group that contains a quantifier or alternation (catastrophic backtracking)';
      const parent = stack[stack.length - 1];
      if (parent && (group?.risky || repeated)) parent.risky = true;
      continue;
    }
    if (quantifier || c === '?') {
      const top = stack[stack.length - 1];
      if (top && quantifier) top.risky = true;
    }
  }
  return null;
}
