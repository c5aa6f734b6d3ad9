/**
 * The `sha256` action: unkeyed, normalized SHA-256 — the match keys ad platforms require
 * (Google enhanced conversions, Meta CAPI). Unkeyed hashes of identifiers can be enumerated, so
 * the policy uses this only where a vendor demands it; `hash` (HMAC) is the default.
 */
import { hash } from 'node:crypto';
import { PhiGateError } from '../errors.ts';

export type Sha256Normalization = 'email' | 'phone' | 'plain';

/** A value that already is a SHA-256 hex digest (e.g. hashed client-side) is not hashed twice. */
const HEX64 = /^[0-9a-fA-F]{64}$/;
/** Separators people type inside phone numbers: whitespace, dashes, dots, parentheses. */
const PHONE_SEPARATORS = /[\s\-.()]/g;
/** "+44 (0)20 …": the bracketed national trunk 0 is omitted when dialled internationally. */
const TRUNK_ZERO = /\(0\)/g;
const PLUS_DIGITS = /^\+[0-9]+$/;
/** E.164: at most 15 digits after '+'; no country code starts with 0. 7 is the shortest real number (+683 NNNN). */
const E164_MIN_DIGITS = 7;
const E164_MAX_DIGITS = 15;

/**
 * Phone → E.164 ('+' then digits). A bracketed trunk '(0)' is dropped, separators are stripped and
 * a leading international '00' becomes '+'. A number written without '+' or '00' is taken to already start with its country
 * code ('1 650 555 0100' → '+16505550100'): the hasher has no default country, and guessing one
 * would silently produce wrong match keys. What cannot be E.164 — letters, extensions, a '+' inside,
 * a national trunk '0' first (like '020 …'), too few or too many digits — throws PHIGATE_ERR_ACTION,
 * so the caller fails closed rather than sending a meaningless hash. Exported for tests.
 */
export function normalizePhone(value: string): string {
  let compact = value.replace(TRUNK_ZERO, '').replace(PHONE_SEPARATORS, '');
  if (compact.startsWith('00')) compact = `+${compact.slice(2)}`;
  else if (!compact.startsWith('+')) compact = `+${compact}`;
  const digits = compact.length - 1;
  if (
    !PLUS_DIGITS.test(compact) ||
    compact[1] === '0' ||
    digits < E164_MIN_DIGITS ||
    digits > E164_MAX_DIGITS
  ) {
    throw new PhiGateError(
      'PHIGATE_ERR_ACTION',
      'sha256/phone: value is not a phone number that normalizes to E.164',
    );
  }
  return compact;
}

const NORMALIZERS: Record<Sha256Normalization, (value: string) => string> = {
  email: (value) => value.trim().toLowerCase(),
  phone: normalizePhone,
  plain: (value) => value,
};

/**
 * Returns value → lowercase hex SHA-256 of the normalized UTF-8 value (format FORMATS.sha256[kind]).
 * Pass-through: for email and phone, a value whose trimmed form is 64 hex chars is returned
 * lowercased; for plain (no normalization) only an exact 64-hex value passes.
 */
export function createSha256Hasher(kind: Sha256Normalization): (value: string) => string {
  const normalize = NORMALIZERS[kind];
  if (normalize === undefined)
    throw new PhiGateError('PHIGATE_ERR_POLICY_INVALID', `unknown sha256 normalization`);
  const trimForPassThrough = kind !== 'plain';
  return (value: string): string => {
    const candidate = trimForPassThrough ? value.trim() : value;
    if (candidate.length === 64 && HEX64.test(candidate)) return candidate.toLowerCase();
    return hash('sha256', normalize(value), 'hex');
  };
}
