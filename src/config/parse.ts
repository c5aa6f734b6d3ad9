/**
 * Parsers for one environment value of each kind in schema.ts. Each returns the parsed value or
 * the text of a problem ("what is wrong, what is expected"). A problem echoes the offending text
 * only for kinds that cannot carry a secret; URLs are never echoed (they may embed credentials).
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { VarSpec } from './schema.ts';

export type ParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string };

const ok = (value: unknown): ParseResult => ({ ok: true, value });
const fail = (problem: string): ParseResult => ({ ok: false, problem });

/** Quotes a non-secret value for a message; long values are cut so one typo cannot flood a log. */
export function quote(raw: string): string {
  return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);
}

const DIGITS = /^[0-9]+$/;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Host names and IPv4 literals; kafkajs splits "host:port" on ':' so IPv6 literals cannot work. */
const HOST = /^[a-zA-Z0-9._-]+$/;
/** Regular files only, and small: a config file larger than this is a wrong path (a log, a device). */
const MAX_FILE_BYTES = 1024 * 1024;

function parseInteger(raw: string, min: number, max: number): ParseResult {
  const n = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return fail(`must be an integer from ${min} to ${max}, got ${quote(raw)}`);
  }
  return ok(n);
}

function parseBoolean(raw: string): ParseResult {
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1') return ok(true);
  if (v === 'false' || v === '0') return ok(false);
  return fail(`must be true, false, 1 or 0, got ${quote(raw)}`);
}

function parseEnum(raw: string, values: readonly string[]): ParseResult {
  const found = values.find((v) => v === raw.toLowerCase());
  return found === undefined ? fail(`must be one of ${values.join(', ')}, got ${quote(raw)}`) : ok(found);
}

function brokerProblem(entry: string): string | undefined {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return `${quote(entry)} is not host:port`;
  const host = entry.slice(0, colon);
  const port = entry.slice(colon + 1);
  if (!HOST.test(host))
    return `${quote(entry)} has an invalid host (IPv6 literals are not supported: use a name)`;
  const n = DIGITS.test(port) ? Number(port) : Number.NaN;
  if (!(n >= 1 && n <= 65_535)) return `${quote(entry)} has an invalid port (expected 1 to 65535)`;
  return undefined;
}

function parseBrokers(raw: string): ParseResult {
  const entries = raw.split(',').map((s) => s.trim());
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const p = entry === '' ? `entry ${i + 1} is empty` : brokerProblem(entry);
    if (p !== undefined) problems.push(p);
  });
  if (problems.length > 0) {
    return fail(
      `must be a comma-separated list of host:port, e.g. kafka-0:9092,kafka-1:9092: ${problems.join('; ')}`,
    );
  }
  return ok([...new Set(entries)]);
}

function parseUrl(raw: string, name: string): ParseResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('must be an absolute http:// or https:// URL (value not shown)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(`must use http or https, not ${quote(url.protocol.slice(0, -1))}`);
  }
  if (url.username !== '' || url.password !== '') {
    const base = name.replace(/_URL$/, '');
    return fail(
      `must not embed credentials (user:password@): set ${base}_USERNAME and ${base}_PASSWORD instead`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    return fail('must be the API base URL, without a query string or fragment');
  }
  // Callers append paths like `/schemas/ids/1`: keep one canonical form without trailing slashes.
  return ok(url.href.replace(/\/+$/, ''));
}

function parseTopic(raw: string): ParseResult {
  if (!TOPIC_NAME.test(raw) || raw === '.' || raw === '..') {
    return fail(`must be a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -), got ${quote(raw)}`);
  }
  return ok(raw);
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'file not readable (permission denied)';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `file cannot be read (${code ?? 'unknown error'})`;
}

/** Opens, checks and (when `read`) reads a file. Paths are not secret; contents never appear in a problem. */
function checkFile(path: string, read: boolean): { problem: string } | { contents: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { problem: `${quote(path)}: ${describeFsError(err)}` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: `${quote(path)} is not a regular file` };
    if (stat.size > MAX_FILE_BYTES)
      return { problem: `${quote(path)} is larger than ${MAX_FILE_BYTES} bytes` };
    return { contents: read ? readFileSync(fd, 'utf8') : '' };
  } catch (err) {
    return { problem: `${quote(path)}: ${describeFsError(err)}` };
  } finally {
    closeSync(fd);
  }
}

function parsePath(raw: string): ParseResult {
  const file = checkFile(raw, false);
  return 'problem' in file ? fail(file.problem) : ok(raw);
}

function parseFile(raw: string, stripNewline: boolean): ParseResult {
  const file = checkFile(raw, true);
  if ('problem' in file) return fail(file.problem);
  // Secret files written with `echo` or by Kubernetes tooling often end in one newline that is not
  // part of the password.
  const contents = stripNewline ? file.contents.replace(/\r?\n$/, '') : file.contents;
  if (contents === '') return fail(`${quote(raw)} is empty`);
  return ok(contents);
}

/**
 * Parses one value. `raw` is the variable's text, never empty: an empty or blank variable counts
 * as unset (Kubernetes and compose files often set `NAME=` to mean "not set").
 */
export function parseValue(name: string, spec: VarSpec, raw: string): ParseResult {
  switch (spec.kind) {
    case 'string':
      return ok(raw.trim());
    case 'secret':
      return ok(raw);
    case 'integer':
      return parseInteger(raw.trim(), spec.min, spec.max);
    case 'boolean':
      return parseBoolean(raw.trim());
    case 'enum':
      return parseEnum(raw.trim(), spec.values);
    case 'brokers':
      return parseBrokers(raw);
    case 'url':
      return parseUrl(raw.trim(), name);
    case 'topic':
      return parseTopic(raw.trim());
    case 'path':
      return parsePath(raw.trim());
    case 'file':
      return parseFile(raw.trim(), spec.stripNewline === true);
  }
}

/** What an unset variable becomes: its default, a "required" problem, or undefined. */
export function defaultValue(spec: VarSpec): ParseResult {
  if ('default' in spec && spec.default !== undefined) return ok(spec.default);
  if ('required' in spec && spec.required === true) return fail(`is required: ${spec.doc}`);
  return ok(undefined);
}
