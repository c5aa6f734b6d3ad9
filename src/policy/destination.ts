/**
 * A destination as the pipeline sees it: topic, format, key and header rules, and `compile`, which
 * builds (and caches per writer Type) the plan. Actions are bound here to this destination's own
 * keys, so pseudonyms cannot be joined across destinations.
 */
import type avro from 'avsc';
import { PhiGateError } from '../errors.ts';
import { createEncryptAction } from './actions/encrypt.ts';
import { createGeneralizeAction } from './actions/generalize.ts';
import { createHashAction } from './actions/hash.ts';
import { createMaskAction } from './actions/mask.ts';
import { createSha256Action } from './actions/sha256.ts';
import type { ActionFn, LeafInfo } from './actions/types.ts';
import { createUrlAction } from './actions/url.ts';
import { derivedNamespace } from './compile/namer.ts';
import type { DestinationConfig, PolicyConfig } from './config.ts';
import { compileScanner } from './detectors.ts';
import type { DestinationKeys } from './keys.ts';
import { BUILTIN_MATCHERS_VERSION, type MatcherSet } from './matchers.ts';
import { compilePlan, type PlanContext } from './plan.ts';
import type { Rule } from './rules.ts';
import type { CompileOptions, Destination, Plan } from './types.ts';
import { contentHash, ENGINE_VERSION } from './version.ts';

/** Key ids of a destination: HMAC fingerprint first, then encryption kids in listed order. */
function keyIdsOf(keys: DestinationKeys): string[] {
  return [...(keys.hmacKeyId === null ? [] : [keys.hmacKeyId]), ...(keys.keyring?.kids ?? [])];
}

export function destinationVersion(
  config: DestinationConfig,
  matchers: PolicyConfig['matchers'],
  keys: DestinationKeys,
): string {
  const { hashKey: _h, encryption, fields, consent, ...rest } = config;
  return contentHash({
    engine: ENGINE_VERSION,
    builtinMatchers: BUILTIN_MATCHERS_VERSION,
    matchers,
    destination: {
      ...rest,
      // Absent rather than null without consent: versions of destinations that declare none stay as they were.
      ...(consent === null ? {} : { consent }),
      fields: fields.map((f) => ({ path: f.pattern.source, rule: f.rule })),
      encryption:
        encryption === null
          ? null
          : { scheme: encryption.scheme, active: encryption.active, reuse: encryption.reuse },
    },
    keyIds: keyIdsOf(keys),
    publicKeys: keys.publicKeyDigests,
  });
}

function missingKey(what: string, name: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_PLAN', `destination ${name}: ${what} is needed but not configured`);
}

export function createDestination(
  config: DestinationConfig,
  matchers: MatcherSet,
  matchersConfig: PolicyConfig['matchers'],
  keys: DestinationKeys,
): Destination {
  const version = destinationVersion(config, matchersConfig, keys);
  const { hmac, hmacKeyId, keyring } = keys;
  const name = config.name;

  const action = (rule: Rule, leaf: LeafInfo): { fn: ActionFn; keyId: string | null } => {
    switch (rule.action) {
      case 'hash':
        if (hmac === null) throw missingKey('hashKey', name);
        return { fn: createHashAction(hmac), keyId: hmacKeyId };
      case 'encrypt':
        if (keyring === null) throw missingKey('encryption', name);
        return { fn: createEncryptAction(keyring.active), keyId: keyring.active.kid };
      case 'sha256':
        return { fn: createSha256Action(rule.kind), keyId: null };
      case 'mask':
        return { fn: createMaskAction(rule.keepFirst, rule.keepLast), keyId: null };
      case 'generalize':
        return { fn: createGeneralizeAction(rule.to, leaf), keyId: null };
      case 'url':
        return { fn: createUrlAction(rule.keepQuery, rule.keepPath), keyId: null };
      default:
        throw new PhiGateError(
          'PHIGATE_ERR_PLAN',
          `destination ${name}: '${rule.action}' is not a transforming action`,
        );
    }
  };

  const ctx: PlanContext = {
    config,
    version,
    namespace: derivedNamespace(name),
    matchers,
    scanner: compileScanner(config.detectors, matchers.valuePatterns),
    action,
    recordKeyId: config.key === 'hash' ? hmacKeyId : null,
  };

  let transformKey: (key: Buffer | null) => Buffer | null;
  if (config.key === 'keep') transformKey = (key) => key;
  else if (config.key === 'drop') transformKey = () => null;
  else {
    if (hmac === null) throw missingKey('hashKey', name);
    transformKey = (key) => (key === null ? null : Buffer.from(hmac(key.toString('utf8')), 'utf8'));
  }

  const plans = new WeakMap<avro.Type, Plan>();
  return Object.freeze({
    name,
    topic: config.topic,
    format: config.format,
    version,
    keyIds: Object.freeze(keyIdsOf(keys)),
    keepHeaders: config.headers === 'keep',
    transformKey,
    compile(writerType: avro.Type, options?: CompileOptions): Plan {
      const cached = plans.get(writerType);
      if (cached !== undefined) return cached;
      const plan = compilePlan(ctx, writerType, options);
      plans.set(writerType, plan);
      return plan;
    },
  });
}
