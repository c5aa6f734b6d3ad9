/**
 * Value detectors: find personal data inside free text that a destination is allowed to receive
 * (a `notes` field, a search query). Built-ins: email, payment card (Luhn-checked), SSN, phone; plus
 * the `values` regexes of custom matchers. Every built-in pattern has bounded quantifiers, so a
 * search costs O(length) with a small constant; user patterns are screened by safe-regex.ts.
 *
 * `redact` replaces each match with `[REDACTED:<kind>]`; `flag` leaves the text and reports the kinds.
 */
import type { ValuePattern } from './matchers.ts';

export type DetectorMode = 'off' | 'flag' | 'redact';

interface Detector {
  readonly kind: string;
  readonly regex: RegExp;
  /** Cheap pre-check on the whole text: skip the regex when it cannot match. */
  readonly needs: 'at' | 'digits' | 'none';
  /** Extra check on a match (Luhn for cards); a rejected match is left as it is. */
  readonly accept?: (match: string) => boolean;
}

/** Luhn (mod 10) over the digits of `text`; separators ignored. Exported for tests. */
export function luhnValid(text: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits >= 13 && digits <= 19 && sum % 10 === 0;
}

/**
 * Order matters: cards before SSN and phone (a card number contains phone-like runs), and each
 * replacement removes its digits before the next detector runs.
 */
const BUILTIN_DETECTORS: readonly Detector[] = [
  {
    kind: 'email',
    regex: /[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}/g,
    needs: 'at',
  },
  {
    kind: 'card',
    regex: /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g,
    needs: 'digits',
    accept: luhnValid,
  },
  { kind: 'ssn', regex: /(?<![0-9])[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}(?![0-9])/g, needs: 'digits' },
  {
    kind: 'phone',
    regex:
      /(?<![0-9+])(?:\+[1-9][0-9]{0,2}[ .-]?)?(?:\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}(?![0-9])/g,
    needs: 'digits',
  },
];

/**
 * Every digit-based detector needs a span of 9+ characters of digits and separators that starts and
 * ends with a digit (SSN 9 digits, phone 10, card 13): one cheap test skips them all for ordinary
 * text such as a user agent ("605.1.15").
 */
const DIGIT_SPAN = /[0-9][0-9 ().+-]{7,}[0-9]/;

/**
 * A compiled scanner. Returns the (possibly rewritten) text; calls `report(kind)` once per kind
 * found. The caller passes a stable `report` so nothing is allocated when nothing is found.
 */
export type Scanner = (text: string, report: (kind: string) => void) => string;

export function compileScanner(mode: DetectorMode, custom: readonly ValuePattern[]): Scanner | null {
  if (mode === 'off') return null;
  const detectors: Detector[] = [
    ...BUILTIN_DETECTORS,
    ...custom.map((p) => ({ kind: p.kind, regex: p.regex, needs: 'none' as const })),
  ];
  const redact = mode === 'redact';
  return (text, report) => {
    let out = text;
    let digitsChecked = false;
    let digits = false;
    for (const d of detectors) {
      if (d.needs === 'at' && out.indexOf('@') < 0) continue;
      if (d.needs === 'digits') {
        if (!digitsChecked) {
          digits = DIGIT_SPAN.test(out);
          digitsChecked = true;
        }
        if (!digits) continue;
      }
      d.regex.lastIndex = 0;
      if (!d.regex.test(out)) continue;
      let found = false;
      const accept = d.accept;
      const replaced = out.replace(d.regex, (m) => {
        if (accept !== undefined && !accept(m)) return m;
        found = true;
        return redact ? `[REDACTED:${d.kind}]` : m;
      });
      if (!found) continue;
      report(d.kind);
      if (redact) {
        out = replaced;
        digitsChecked = false;
      }
    }
    return out;
  };
}
