/**
 * `generalize: year|month|birthyear|age|zip3|ipv4-24|ipv6-48`: keep a coarse part of the value.
 *
 * - year / month: `YYYY` / `YYYY-MM` of an ISO date or date-time (`1984-07-02`, `1984-07-02T10:00Z`,
 *   as written, no time-zone shift) or an HL7 `YYYYMMDD`; numbers are epoch milliseconds, or what
 *   the writer's logical type says (timestamp-micros, date in days).
 * - birthyear: the year of a birth date, except that a year which can make the person 90 or older
 *   this (UTC) year becomes the single category `90+` — HIPAA Safe Harbor aggregates all ages over
 *   89 and every date element, year included, indicative of such an age.
 * - age: an age in years, whole (`37`); 90 and over becomes `90+`, as above.
 * - zip3: the first three digits of a US ZIP (`02134`, `02134-1234`); the prefixes HIPAA Safe Harbor
 *   lists as covering fewer than 20,000 people become `000`.
 * - ipv4-24 / ipv6-48: the network part, `203.0.113.0` / `2001:db8:85a3::`. Both accept either
 *   family (a client may arrive over either), applying /24 to IPv4 and /48 to IPv6.
 *
 * A value that does not parse throws: the raw value is never passed on. The empty string stays empty.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { PhiGateError } from '../../errors.ts';
import type { Generalization } from '../rules.ts';
import { scalarText } from './text.ts';
import type { ActionFn, LeafInfo } from './types.ts';

const ISO_DATE = /^([0-9]{4})-([0-9]{2})(?:-([0-9]{2})(?:[T ][0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?)?$/;
const HL7_DATE = /^([0-9]{4})([0-9]{2})([0-9]{2})$/;
const ZIP = /^([0-9]{3})[0-9]{2}(?:-?[0-9]{4})?$/;
/** 45 CFR 164.514(b)(2)(i)(B): three-digit ZIP prefixes with 20,000 or fewer people (2000 census). */
const RESTRICTED_ZIP3 = new Set([
  '036',
  '059',
  '063',
  '102',
  '203',
  '556',
  '692',
  '790',
  '821',
  '823',
  '830',
  '831',
  '878',
  '879',
  '884',
  '890',
  '893',
]);
const MS_PER_DAY = 86_400_000;
/** 45 CFR 164.514(b)(2)(i)(C): ages over 89 are aggregated into one category of 90 or older. */
const TOP_AGE = 90;
const TOP_AGE_CATEGORY = '90+';
/** Older than any person: an age past this is a wrong field or unit, not an age. */
const MAX_AGE = 150;
const NUMERIC = /^[0-9]+(?:\.[0-9]+)?$/;

function fail(what: string): never {
  throw new PhiGateError('PHIGATE_ERR_ACTION', `generalize: value is not ${what}`);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** [year, month] of a date value, or a throw. */
function yearMonth(value: unknown, logicalType: string | undefined): [number, number] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('a date');
    const ms =
      logicalType === 'date'
        ? value * MS_PER_DAY
        : logicalType === 'timestamp-micros' || logicalType === 'local-timestamp-micros'
          ? value / 1000
          : value;
    const d = new Date(ms);
    if (Number.isNaN(d.getTime())) fail('a date');
    return [d.getUTCFullYear(), d.getUTCMonth() + 1];
  }
  const text = scalarText(value).trim();
  const m = ISO_DATE.exec(text) ?? HL7_DATE.exec(text);
  if (m === null) fail('an ISO 8601 date');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) fail('a valid date');
  return [year, month];
}

/**
 * A birth year, or `90+` when the person may be 90 or older in the current year: someone born in Y
 * turns `year − Y` this year, so every Y with `year − Y >= 90` is aggregated (in 2026: up to 1936).
 */
function birthYear(value: unknown, logicalType: string | undefined, nowMs: number): string {
  const [year] = yearMonth(value, logicalType);
  return new Date(nowMs).getUTCFullYear() - year >= TOP_AGE ? TOP_AGE_CATEGORY : pad(year, 4);
}

function age(value: unknown): string {
  let n = Number.NaN;
  if (typeof value === 'number') n = value;
  else {
    const text = scalarText(value).trim();
    if (NUMERIC.test(text)) n = Number(text);
  }
  if (!Number.isFinite(n) || n < 0 || n > MAX_AGE) fail('an age in years');
  return n >= TOP_AGE ? TOP_AGE_CATEGORY : String(Math.trunc(n));
}

function zip3(value: unknown): string {
  const text =
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 99_999
      ? pad(value, 5)
      : scalarText(value).trim();
  const m = ZIP.exec(text);
  if (m === null) fail('a US ZIP code');
  const prefix = m[1] as string;
  return RESTRICTED_ZIP3.has(prefix) ? '000' : prefix;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and an embedded IPv4 tail expanded). */
function ipv6Groups(text: string): number[] {
  let s = text;
  let v4: number[] | null = null;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const o = last.split('.').map(Number);
    v4 = [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const parts = s.split('::');
  const left = parts[0] ? parts[0].split(':') : [];
  const right = parts.length > 1 && parts[1] ? parts[1].split(':') : [];
  const fill = parts.length > 1 ? 8 - left.length - right.length : 0;
  const groups = [...left, ...new Array<string>(fill).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
  if (v4 !== null) groups.splice(6, 2, v4[0] ?? 0, v4[1] ?? 0);
  return groups;
}

function ipPrefix(value: unknown): string {
  const text = scalarText(value).trim().replace(/%.*$/, ''); // zone id (fe80::1%eth0) names no one
  if (isIPv4(text)) return `${text.slice(0, text.lastIndexOf('.'))}.0`;
  if (!isIPv6(text)) fail('an IP address');
  const g = ipv6Groups(text);
  const mapped = g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
  if (mapped) return `${(g[6] ?? 0) >> 8}.${(g[6] ?? 0) & 0xff}.${(g[7] ?? 0) >> 8}.0`;
  // Let the URL parser print the canonical (RFC 5952) form of the /48 prefix.
  const prefix = `${(g[0] ?? 0).toString(16)}:${(g[1] ?? 0).toString(16)}:${(g[2] ?? 0).toString(16)}::`;
  return new URL(`http://[${prefix}]/`).hostname.slice(1, -1);
}

/** `now` (epoch ms) dates `birthyear`'s cut-off; the pipeline uses the wall clock. */
export function createGeneralizeAction(
  to: Generalization,
  leaf: LeafInfo,
  now: () => number = Date.now,
): ActionFn {
  const lt = leaf.logicalType;
  switch (to) {
    case 'year':
      return (value) => (value === '' ? '' : pad(yearMonth(value, lt)[0], 4));
    case 'month':
      return (value) => {
        if (value === '') return '';
        const [y, m] = yearMonth(value, lt);
        return `${pad(y, 4)}-${pad(m, 2)}`;
      };
    case 'birthyear':
      return (value) => (value === '' ? '' : birthYear(value, lt, now()));
    case 'age':
      return (value) => (value === '' ? '' : age(value));
    case 'zip3':
      return (value) => (value === '' ? '' : zip3(value));
    case 'ipv4-24':
    case 'ipv6-48':
      return (value) => (value === '' ? '' : ipPrefix(value));
  }
}
