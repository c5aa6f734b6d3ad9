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
 * Issuer prefix (ISO/IEC 7812 IIN ranges of the card networks) and length: a number no network
 * issues is not a card, whatever its check digit. This keeps 13-digit millisecond clocks (they start
 * with 1, and only 15-digit UATP cards do) and other ids out, one in ten of which passes Luhn.
 * Separators in `text` are skipped.
 */
export function plausibleCard(text: string): boolean {
  let n = 0;
  let p4 = 0; // the first four digits as a number
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    if (n < 4) p4 = p4 * 10 + c;
    n++;
  }
  const p2 = Math.floor(p4 / 100);
  switch (Math.floor(p4 / 1000)) {
    case 1: // UATP
      return n === 15;
    case 2: // Mir 2200–2204; Mastercard 2221–2720
      return (p4 >= 2200 && p4 <= 2204 && n >= 16) || (p4 >= 2221 && p4 <= 2720 && n === 16);
    case 3: // Amex 34, 37; JCB 3528–3589; Diners 300–305, 3095, 36, 38, 39
      if (p2 === 34 || p2 === 37) return n === 15;
      if (p4 >= 3528 && p4 <= 3589) return n >= 16;
      return ((p4 >= 3000 && p4 <= 3059) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14;
    case 4: // Visa
    case 5: // Mastercard 51–55; Maestro 50, 56–59
    case 6: // Discover, UnionPay, Maestro, RuPay, Troy
      return true;
    case 8: // RuPay 81, 82
      return (p2 === 81 || p2 === 82) && n === 16;
    default:
      return false;
  }
}

/**
 * Separators, where there are any, group the digits as cards are printed: fours (the last group
 * shorter for 13–19 digits), or 4-6-5 (Amex) and 4-6-4 (Diners). A UUID's digit run (8-4-4) is not.
 */
export function cardLayout(text: string): boolean {
  const lengths: number[] = []; // of the groups before the last (at most 18 with 19 digits)
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) run++;
    else {
      lengths.push(run);
      run = 0;
    }
  }
  const k = lengths.length;
  if (k === 0) return true;
  if (k === 2 && lengths[0] === 4 && lengths[1] === 6 && (run === 5 || run === 4)) return true;
  for (let i = 0; i < k; i++) if (lengths[i] !== 4) return false;
  return run >= 1 && run <= 4;
}

/**
 * Order matters: cards before SSN and phone (a card number contains phone-like runs), and each
 * replacement removes its digits before the next detector runs. Digit patterns need a boundary
 * that is neither a digit nor a letter: a number glued to letters is part of an identifier (a hex
 * id, a UUID, `msg_mws0k413`), not a card, SSN or phone number.
 */
const BUILTIN_DETECTORS: readonly Detector[] = [
  {
    kind: 'email',
    regex: /[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}/g,
    needs: 'at',
  },
  {
    kind: 'card',
    regex: /(?<![0-9A-Za-z])[0-9](?:[ -]?[0-9]){12,18}(?![0-9A-Za-z])/g,
    needs: 'digits',
    accept: (m) => luhnValid(m) && plausibleCard(m) && cardLayout(m),
  },
  {
    kind: 'ssn',
    regex: /(?<![0-9A-Za-z])[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}(?![0-9A-Za-z])/g,
    needs: 'digits',
  },
  {
    // NANP (`(617) 555-0142`, optionally +country), or any international number written with its
    // `+`: 8–15 digits (E.164), each group after up to two of ` .-()` (`+44 20 7946 0958`).
    kind: 'phone',
    regex:
      /(?<![0-9A-Za-z+])(?:(?:\+[1-9][0-9]{0,2}[ .-]?)?(?:\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}|\+[1-9](?:[ .()-]{0,2}[0-9]){7,14})(?![0-9A-Za-z])/g,
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
    // The loop allocates nothing for a clean value, optimised or not: an index, not for…of (an
    // array iterator is an object per detector until the scanner is optimised, and after each
    // deoptimisation), and no closure in the loop body (a variable it captured would put a context
    // object on the heap on every pass). Together they were ~440 bytes a call, a fifth of the
    // pipeline's allocation (BENCHMARKS.md, session 11).
    for (let i = 0; i < detectors.length; i++) {
      const d = detectors[i] as Detector;
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
      const replaced = replaceMatches(out, d, redact);
      if (replaced === undefined) continue;
      report(d.kind);
      if (redact) {
        out = replaced;
        digitsChecked = false;
      }
    }
    return out;
  };
}

/** The text with the detector's accepted matches redacted (or kept, to flag); undefined if none was accepted. */
function replaceMatches(text: string, d: Detector, redact: boolean): string | undefined {
  let found = false;
  const { accept } = d;
  const replaced = text.replace(d.regex, (m) => {
    if (accept !== undefined && !accept(m)) return m;
    found = true;
    return redact ? `[REDACTED:${d.kind}]` : m;
  });
  return found ? replaced : undefined;
}
