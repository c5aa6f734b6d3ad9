/** Assembles the frozen Policy from a checked configuration and its loaded keys. */
import type { Problem } from '../errors.ts';
import type { PolicyConfig } from './config.ts';
import { createDestination } from './destination.ts';
import type { PolicyKeys } from './keys.ts';
import { compileMatchers } from './matchers.ts';
import type { Destination, Policy } from './types.ts';
import { contentHash, ENGINE_VERSION } from './version.ts';

export function buildPolicy(config: PolicyConfig, keys: PolicyKeys, warnings: readonly Problem[]): Policy {
  const matchers = compileMatchers(config.matchers);
  const destinations: Destination[] = config.destinations.map((d) => {
    const k = keys.destinations.get(d.name);
    if (k === undefined) throw new Error(`internal: no keys loaded for destination ${d.name}`);
    return createDestination(d, matchers, config.matchers, k);
  });
  const version = contentHash({
    engine: ENGINE_VERSION,
    destinations: destinations.map((d) => ({ name: d.name, version: d.version })),
    audit: keys.auditKeyId,
  });
  const audit = keys.audit;
  const reviewed = new Map(Object.entries(config.reviewedSchemaVersions));
  return Object.freeze({
    version,
    destinations: Object.freeze(destinations),
    warnings: Object.freeze([...warnings]),
    pseudonymize: (userId: string): string | null => (audit === null ? null : audit(userId)),
    classify: matchers.classify,
    reviewedSchemaVersion: (subject: string): number | null => reviewed.get(subject) ?? null,
  });
}
