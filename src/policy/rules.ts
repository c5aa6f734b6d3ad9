/**
 * Field rules in normalized form: the YAML shorthand (`hash`, `{ sha256: email }`, …) becomes one
 * tagged object with every default filled in, so versions hash a canonical shape and the compiler
 * switches on `action` only.
 */

export type Sha256Kind = 'email' | 'phone' | 'plain';
export type Generalization = 'year' | 'month' | 'birthyear' | 'age' | 'zip3' | 'ipv4-24' | 'ipv6-48';

export type Rule =
  | { readonly action: 'allow' }
  | { readonly action: 'drop' }
  | { readonly action: 'hash' }
  | { readonly action: 'encrypt' }
  | { readonly action: 'sha256'; readonly kind: Sha256Kind }
  | { readonly action: 'generalize'; readonly to: Generalization }
  | { readonly action: 'mask'; readonly keepFirst: number; readonly keepLast: number }
  | { readonly action: 'url'; readonly keepQuery: readonly string[]; readonly keepPath: boolean };

export type PiiAction = 'drop' | 'hash' | 'encrypt';

/**
 * What decided a path's rule (precedence in compile/resolve.ts): a field rule of the policy
 * (`explicit`, wildcards included), the destination's `pii` action for a matcher hit, the envelope
 * defaults, or the mode default. A path that inherits its rule inherits its origin.
 */
export type RuleSource = 'explicit' | 'pii' | 'mode' | 'envelope';

export interface RuleOrigin {
  readonly rule: Rule;
  readonly source: RuleSource;
  /** The pattern of the deciding field rule, as written (source `explicit` only). */
  readonly rulePath: string | null;
  /** A field rule names this path itself (or the array it is an item of), not only an ancestor. */
  readonly named: boolean;
}

export const ALLOW: Rule = Object.freeze({ action: 'allow' });
export const DROP: Rule = Object.freeze({ action: 'drop' });
export const HASH: Rule = Object.freeze({ action: 'hash' });
export const ENCRYPT: Rule = Object.freeze({ action: 'encrypt' });

export function piiRule(pii: PiiAction): Rule {
  return pii === 'drop' ? DROP : pii === 'hash' ? HASH : ENCRYPT;
}

/** The action name recorded in decisions (`sha256:email`, `generalize:year`, …). */
export function ruleLabel(rule: Rule): string {
  switch (rule.action) {
    case 'sha256':
      return `sha256:${rule.kind}`;
    case 'generalize':
      return `generalize:${rule.to}`;
    default:
      return rule.action;
  }
}

/**
 * Ties between equally specific patterns go to the most protective rule (fail safe): dropping
 * beats encrypting beats keyed hashing beats unkeyed hashing beats partial reveals beats allow.
 */
const PROTECTION: Record<Rule['action'], number> = {
  drop: 7,
  encrypt: 6,
  hash: 5,
  sha256: 4,
  generalize: 3,
  mask: 2,
  url: 1,
  allow: 0,
};

export function protection(rule: Rule): number {
  return PROTECTION[rule.action];
}

/** Turns a schema-valid YAML rule into its normalized form. */
export function normalizeRule(raw: unknown): Rule {
  if (typeof raw === 'string') {
    if (raw === 'allow') return ALLOW;
    if (raw === 'drop') return DROP;
    if (raw === 'hash') return HASH;
    return ENCRYPT;
  }
  const o = raw as Record<string, unknown>;
  if ('sha256' in o) return Object.freeze({ action: 'sha256', kind: o.sha256 as Sha256Kind });
  if ('generalize' in o) return Object.freeze({ action: 'generalize', to: o.generalize as Generalization });
  if ('mask' in o) {
    const m = (o.mask ?? {}) as { keepFirst?: number; keepLast?: number };
    return Object.freeze({ action: 'mask', keepFirst: m.keepFirst ?? 0, keepLast: m.keepLast ?? 0 });
  }
  const u = (o.url ?? {}) as { keepQuery?: string[]; keepPath?: boolean };
  return Object.freeze({
    action: 'url',
    keepQuery: Object.freeze([...(u.keepQuery ?? [])]),
    keepPath: u.keepPath ?? false,
  });
}
