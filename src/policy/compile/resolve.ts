/**
 * Which rule governs a node, decided once at compile time (fail-safe precedence):
 *
 *   1. an explicit rule on the node itself (a pattern of the node's length whose last token names
 *      it, or is `[]` for array items); among several, the one with more literal segments, then the
 *      more protective one;
 *   2. an envelope default (top-level messageId/type/event/timestamps pass, userId/anonymousId hash);
 *   3. a matcher hit on the node's name (field name or map key) → the destination's `pii` action;
 *   4. a wildcard rule on the node (a pattern ending in `*`) — below matchers, so `extras.*: allow`
 *      never lets an `ssn` key through;
 *   5. the rule inherited from the nearest ancestor (whatever decided the parent);
 *   6. at the root: the mode default (allowlist: drop, blocklist: allow).
 */
import { ENVELOPE_ALLOW, ENVELOPE_HASH, type FieldRule } from '../config.ts';
import { appendStep, matchesPrefix, type PathStep } from '../paths.ts';
import { ALLOW, HASH, piiRule, protection, type Rule, type RuleOrigin } from '../rules.ts';
import type { CompileEnv } from './env.ts';

function better(current: FieldRule | undefined, candidate: FieldRule): FieldRule {
  if (current === undefined) return candidate;
  if (candidate.pattern.literals !== current.pattern.literals) {
    return candidate.pattern.literals > current.pattern.literals ? candidate : current;
  }
  const pc = protection(candidate.rule);
  const pk = protection(current.rule);
  if (pc !== pk) return pc > pk ? candidate : current;
  return candidate.pattern.source < current.pattern.source ? candidate : current;
}

/**
 * @param genericKeyHit for a map entry standing for "any other key": whether that key hits a matcher
 *   (the compiler builds both variants; the map picks one per distinct key at run time).
 */
export function resolveRule(
  env: CompileEnv,
  steps: readonly PathStep[],
  inherited: Rule,
  genericKeyHit = false,
): Rule {
  const n = steps.length;
  if (n === 0) return inherited;
  const origin = decide(env, steps, inherited, genericKeyHit);
  if (env.trace.on) env.origins.set(steps.reduce(appendStep, ''), origin);
  return origin.rule;
}

function decide(
  env: CompileEnv,
  steps: readonly PathStep[],
  inherited: Rule,
  genericKeyHit: boolean,
): RuleOrigin {
  const n = steps.length;
  let explicit: FieldRule | undefined;
  let wildcard: FieldRule | undefined;
  for (const fr of env.dest.fields) {
    if (fr.pattern.tokens.length !== n || !matchesPrefix(fr.pattern, steps, n)) continue;
    env.used.add(fr);
    if (fr.pattern.tokens[n - 1]?.kind === 'star') wildcard = better(wildcard, fr);
    else explicit = better(explicit, fr);
  }
  if (explicit !== undefined) return named(explicit);
  const last = steps[n - 1] as PathStep;
  if (n === 1 && last.kind === 'field') {
    if (ENVELOPE_ALLOW.has(last.name))
      return { rule: ALLOW, source: 'envelope', rulePath: null, named: false };
    if (ENVELOPE_HASH.has(last.name)) return { rule: HASH, source: 'envelope', rulePath: null, named: false };
  }
  const name = last.kind === 'field' ? last.name : last.kind === 'key' ? last.key : null;
  const hit = name !== null ? env.matchers.match(name) !== null : last.kind === 'key' && genericKeyHit;
  if (hit) return { rule: piiRule(env.dest.pii), source: 'pii', rulePath: null, named: false };
  if (wildcard !== undefined) return named(wildcard);
  // Inherited: the parent's origin (only traced compiles record one; the root's is the mode default).
  const parent = env.trace.on ? env.origins.get(steps.slice(0, -1).reduce(appendStep, '')) : undefined;
  if (parent === undefined) return { rule: inherited, source: 'mode', rulePath: null, named: false };
  // An array item is named by a rule on its array: `properties.tags: drop` reviews `properties.tags[]`.
  return { ...parent, rule: inherited, named: last.kind === 'items' && parent.named };
}

function named(fr: FieldRule): RuleOrigin {
  return { rule: fr.rule, source: 'explicit', rulePath: fr.pattern.source, named: true };
}
