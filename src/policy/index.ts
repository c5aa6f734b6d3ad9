/**
 * phi-gate's policy engine: load a policy once, compile a plan per (writer schema, destination),
 * run plans per record. See docs/policy.md for the rules and their exact outputs.
 */

export { fromNaturalJson, naturalJson } from './from-json.ts';
export { type LoadOptions, loadPolicy, parsePolicy } from './load.ts';
export { packageRoot } from './package-root.ts';
export type { RuntimeTopics } from './topics.ts';
export type {
  CompileOptions,
  ConsentBlock,
  ConsentReason,
  Decision,
  Destination,
  Outcome,
  Plan,
  PlanResult,
  Policy,
  Problem,
} from './types.ts';
