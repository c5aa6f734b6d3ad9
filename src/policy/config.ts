/**
 * The semantic pass: from the schema-checked document (defaults filled in) to the normalized,
 * frozen configuration the engine compiles. It checks what a JSON schema cannot express — path
 * syntax, regexes, hash without a hashKey, encrypt without keys, the active kid, duplicate topics —
 * and reports every problem with its path. It is defensive: it also runs on a document that failed
 * the schema, so one `check` lists the schema's and its own problems together.
 */
import type { KeySource } from '../crypto/index.ts';
import type { Problem } from '../errors.ts';
import type { ConsentConfig } from './consent.ts';
import type { DetectorMode } from './detectors.ts';
import { compileMatchers, knownMatcherNames, type MatcherSet, type MatchersConfig } from './matchers.ts';
import { type PathPattern, parsePath } from './paths.ts';
import { displayPath, type Segment } from './problem-path.ts';
import { normalizeRule, type PiiAction, type Rule } from './rules.ts';
import { checkValueRegex } from './safe-regex.ts';

export interface FieldRule {
  readonly pattern: PathPattern;
  readonly rule: Rule;
}

export interface EncryptionConfig {
  readonly scheme: 'jwe' | 'rsa-oaep-256';
  readonly active: string;
  readonly keys: readonly { readonly kid: string; readonly publicKey: KeySource }[];
  readonly reuse: { readonly maxValues?: number; readonly maxSeconds?: number } | null;
}

export interface DestinationConfig {
  readonly name: string;
  readonly topic: string;
  readonly format: 'avro' | 'json';
  readonly mode: 'allowlist' | 'blocklist';
  /** null = every event; names or call types. */
  readonly eventsAllow: readonly string[] | null;
  readonly eventsDrop: readonly string[];
  readonly key: 'hash' | 'drop' | 'keep';
  readonly headers: 'drop' | 'keep';
  readonly pii: PiiAction;
  readonly detectors: DetectorMode;
  readonly fields: readonly FieldRule[];
  readonly hashKey: KeySource | null;
  readonly encryption: EncryptionConfig | null;
  /** null: the destination does not look at consent. */
  readonly consent: ConsentConfig | null;
}

export interface PolicyConfig {
  readonly matchers: MatchersConfig;
  readonly auditHashKey: KeySource | null;
  readonly destinations: readonly DestinationConfig[];
  /** Input subject → the schema version the policy was last reviewed against (review metadata only). */
  readonly reviewedSchemaVersions: Readonly<Record<string, number>>;
}

/** Top-level envelope fields that pass in both modes unless a rule says otherwise. */
export const ENVELOPE_ALLOW: ReadonlySet<string> = new Set([
  'messageId',
  'type',
  'event',
  'timestamp',
  'sentAt',
  'receivedAt',
  'originalTimestamp',
]);
/** Top-level identifiers hashed unless a rule says otherwise. */
export const ENVELOPE_HASH: ReadonlySet<string> = new Set(['userId', 'anonymousId']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
const keySource = (v: unknown): KeySource | null => {
  if (!isObj(v)) return null;
  if (typeof v.file === 'string') return { file: v.file };
  if (typeof v.env === 'string') return { env: v.env };
  return null;
};

function matchersConfig(doc: Obj, problems: Problem[]): MatchersConfig {
  const m = isObj(doc.matchers) ? doc.matchers : {};
  const custom: { name: string; keys: string[]; values?: string }[] = [];
  const seen = new Set<string>();
  (Array.isArray(m.custom) ? m.custom : []).forEach((c: unknown, i) => {
    if (!isObj(c) || typeof c.name !== 'string') return;
    const at = (k: string): string => displayPath(['matchers', 'custom', i, k]);
    if (seen.has(c.name))
      problems.push({ path: at('name'), message: `matcher '${c.name}' is defined twice` });
    seen.add(c.name);
    const entry: { name: string; keys: string[]; values?: string } = { name: c.name, keys: strings(c.keys) };
    if (typeof c.values === 'string') {
      const bad = checkValueRegex(c.values);
      if (bad !== null) problems.push({ path: at('values'), message: bad });
      else entry.values = c.values;
    }
    custom.push(entry);
  });
  const synonyms: Record<string, string[]> = {};
  const config = { synonyms, custom };
  const known = knownMatcherNames(config);
  for (const [name, keys] of Object.entries(isObj(m.synonyms) ? m.synonyms : {})) {
    if (!known.has(name)) {
      problems.push({
        path: displayPath(['matchers', 'synonyms', name]),
        message: `no matcher named '${name}' (built-ins: ${[...known].join(', ')})`,
      });
      continue;
    }
    synonyms[name] = strings(keys);
  }
  return config;
}

function fieldRules(name: string, fields: unknown, problems: Problem[]): FieldRule[] {
  const out: FieldRule[] = [];
  for (const [path, raw] of Object.entries(isObj(fields) ? fields : {})) {
    const parsed = parsePath(path);
    if (!parsed.ok) {
      problems.push({
        path: displayPath(['destinations', name, 'fields', path]),
        message: `bad path: ${parsed.error}`,
      });
      continue;
    }
    // a rule the schema rejects is reported there, and must not stand in as another action here
    // (an unknown string once became `encrypt`, and "encrypt is used by" followed)
    if (isRuleShape(raw)) out.push(Object.freeze({ pattern: parsed.pattern, rule: normalizeRule(raw) }));
  }
  // Deterministic order regardless of YAML key order: versions and schemas must not depend on it.
  return out.sort((a, b) =>
    a.pattern.source < b.pattern.source ? -1 : a.pattern.source > b.pattern.source ? 1 : 0,
  );
}

const STRING_ACTIONS = new Set(['allow', 'drop', 'hash', 'encrypt']);
const MAPPING_ACTIONS = new Set(['sha256', 'generalize', 'mask', 'url']);

/** A string action, or a mapping with exactly one known action key (the schema checks the rest). */
function isRuleShape(raw: unknown): boolean {
  if (typeof raw === 'string') return STRING_ACTIONS.has(raw);
  if (!isObj(raw)) return false;
  const keys = Object.keys(raw);
  return keys.length === 1 && MAPPING_ACTIONS.has(keys[0] as string);
}

/** Why a destination needs its hashKey (empty: it does not). */
function hashUses(d: Obj, rules: readonly FieldRule[]): string[] {
  const uses: string[] = [];
  if (d.key === 'hash') uses.push('key: hash');
  if (d.pii === 'hash') uses.push('pii: hash');
  for (const r of rules) if (r.rule.action === 'hash') uses.push(displayPath(['fields', r.pattern.source]));
  const explicit = new Set(rules.filter((r) => r.pattern.tokens.length === 1).map((r) => r.pattern.source));
  for (const id of ENVELOPE_HASH)
    if (!explicit.has(id)) uses.push(`${id} (hashed by default unless a rule names it)`);
  return uses;
}

function encryptUses(d: Obj, rules: readonly FieldRule[]): string[] {
  const uses: string[] = [];
  if (d.pii === 'encrypt') uses.push('pii: encrypt');
  for (const r of rules)
    if (r.rule.action === 'encrypt') uses.push(displayPath(['fields', r.pattern.source]));
  return uses;
}

function encryptionConfig(name: string, e: unknown, problems: Problem[]): EncryptionConfig | null {
  if (!isObj(e)) return null;
  const keys: { kid: string; publicKey: KeySource }[] = [];
  const kids = new Set<string>();
  (Array.isArray(e.keys) ? e.keys : []).forEach((k: unknown, i) => {
    if (!isObj(k) || typeof k.kid !== 'string') return;
    if (kids.has(k.kid)) {
      problems.push({
        path: displayPath(['destinations', name, 'encryption', 'keys', i, 'kid']),
        message: `kid '${k.kid}' is listed twice`,
      });
    }
    kids.add(k.kid);
    const src = keySource(k.publicKey);
    if (src !== null) keys.push({ kid: k.kid, publicKey: src });
  });
  if (typeof e.active === 'string' && !kids.has(e.active)) {
    problems.push({
      path: displayPath(['destinations', name, 'encryption', 'active']),
      message: `active kid '${e.active}' is not among the listed keys`,
    });
  }
  const reuse = isObj(e.reuse)
    ? {
        ...(typeof e.reuse.maxValues === 'number' ? { maxValues: e.reuse.maxValues } : {}),
        ...(typeof e.reuse.maxSeconds === 'number' ? { maxSeconds: e.reuse.maxSeconds } : {}),
      }
    : null;
  return {
    scheme: e.scheme === 'rsa-oaep-256' ? 'rsa-oaep-256' : 'jwe',
    active: typeof e.active === 'string' ? e.active : '',
    keys,
    reuse,
  };
}

/** Categories sorted and distinct: their order does not change what the gate decides. */
function consentConfig(c: unknown): ConsentConfig | null {
  if (!isObj(c)) return null;
  return Object.freeze({
    categories: Object.freeze([...new Set(strings(c.categories))].sort()),
    missing: c.missing === 'deliver' ? 'deliver' : 'drop',
  });
}

function destinationConfig(name: string, d: Obj, problems: Problem[]): DestinationConfig {
  const at = (...rest: Segment[]): string => displayPath(['destinations', name, ...rest]);
  const fields = fieldRules(name, d.fields, problems);
  const hashKey = keySource(d.hashKey);
  const uses = hashUses(d, fields);
  if (hashKey === null && uses.length > 0) {
    problems.push({ path: at('hashKey'), message: `missing: hash is used by ${uses.join(', ')}` });
  }
  const encryption = encryptionConfig(name, d.encryption, problems);
  const enc = encryptUses(d, fields);
  if (encryption === null && enc.length > 0) {
    problems.push({ path: at('encryption'), message: `missing: encrypt is used by ${enc.join(', ')}` });
  }
  const events = isObj(d.events) ? d.events : {};
  return Object.freeze({
    name,
    topic: typeof d.topic === 'string' ? d.topic : `events.dest.${name}`,
    format: d.format === 'json' ? 'json' : 'avro',
    mode: d.mode === 'blocklist' ? 'blocklist' : 'allowlist',
    eventsAllow: Array.isArray(events.allow) ? Object.freeze(strings(events.allow)) : null,
    eventsDrop: Object.freeze(strings(events.drop)),
    key: d.key === 'drop' || d.key === 'keep' ? d.key : 'hash',
    headers: d.headers === 'keep' ? 'keep' : 'drop',
    pii: d.pii === 'hash' || d.pii === 'encrypt' ? d.pii : 'drop',
    detectors: d.detectors === 'off' || d.detectors === 'flag' ? d.detectors : 'redact',
    fields: Object.freeze(fields),
    hashKey,
    encryption,
    consent: consentConfig(d.consent),
  } satisfies DestinationConfig);
}

/** What keeps the useful part of a flagged field when `allow` gives it all away. */
const GENERALIZE_HINTS: Readonly<Record<string, string>> = {
  age: 'generalize: age',
  birth_date: 'generalize: birthyear',
  care_date: 'generalize: year',
  zip: 'generalize: zip3',
  ip: 'generalize: ipv4-24',
};

/**
 * Warnings on field rules whose name a matcher flags: an explicit `allow` (it would pass PII on
 * purpose), and `generalize: year|month` on a birth date (it keeps years that mean an age over 89).
 */
function fieldRuleWarnings(destinations: readonly DestinationConfig[], matchers: MatcherSet): Problem[] {
  const warnings: Problem[] = [];
  for (const d of destinations) {
    for (const { pattern, rule } of d.fields) {
      const last = pattern.tokens[pattern.tokens.length - 1];
      if (last?.kind !== 'name') continue;
      const hit = matchers.match(last.name);
      const path = displayPath(['destinations', d.name, 'fields', pattern.source]);
      if (rule.action === 'allow' && hit !== null) {
        const hint = GENERALIZE_HINTS[hit];
        warnings.push({
          path,
          message: `${d.mode} destination allows a field the '${hit}' matcher flags as personal data${hint === undefined ? '' : ` (${hint} keeps a coarse part)`}`,
        });
      } else if (
        rule.action === 'generalize' &&
        (rule.to === 'year' || rule.to === 'month') &&
        hit === 'birth_date'
      ) {
        warnings.push({
          path,
          message: `generalize: ${rule.to} on a birth date keeps years that mean an age over 89; use generalize: birthyear`,
        });
      }
    }
  }
  return warnings;
}

export function normalizePolicy(
  doc: unknown,
  problems: Problem[],
): { config: PolicyConfig; warnings: Problem[] } {
  const root = isObj(doc) ? doc : {};
  const matcherProblems: Problem[] = [];
  const matchers = matchersConfig(root, matcherProblems);
  problems.push(...matcherProblems);
  const destinations: DestinationConfig[] = [];
  const topics = new Map<string, string>();
  for (const [name, raw] of Object.entries(isObj(root.destinations) ? root.destinations : {})) {
    if (!isObj(raw)) continue;
    const d = destinationConfig(name, raw, problems);
    const other = topics.get(d.topic);
    if (other !== undefined) {
      problems.push({
        path: displayPath(['destinations', name, 'topic']),
        message: `topic '${d.topic}' is also used by destination '${other}'`,
      });
    }
    topics.set(d.topic, name);
    destinations.push(d);
  }
  destinations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const audit = isObj(root.audit) ? root.audit : {};
  const reviewed: Record<string, number> = {};
  for (const [subject, v] of Object.entries(
    isObj(root.reviewedSchemaVersions) ? root.reviewedSchemaVersions : {},
  ))
    if (Number.isInteger(v)) reviewed[subject] = v as number;
  const config: PolicyConfig = Object.freeze({
    matchers,
    auditHashKey: keySource(audit.hashKey),
    destinations: Object.freeze(destinations),
    reviewedSchemaVersions: Object.freeze(reviewed),
  });
  // Bad custom regexes were left out of `matchers`, so compiling them here is safe.
  const warnings = fieldRuleWarnings(destinations, compileMatchers(matchers));
  for (const d of destinations) {
    if (d.encryption?.scheme === 'rsa-oaep-256' && d.encryption.reuse !== null) {
      warnings.push({
        path: displayPath(['destinations', d.name, 'encryption', 'reuse']),
        message: 'has no effect with scheme rsa-oaep-256 (every value is its own RSA operation)',
      });
    }
  }
  return { config, warnings };
}
