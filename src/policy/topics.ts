/**
 * Where a destination may not write: phi-gate's own topics. A destination on the input topic would
 * feed sanitized output back in as input; on the audit or DLQ topic it would mix events into
 * records of another schema and another ACL (the DLQ holds raw PHI, readable by few; the inventory
 * topic holds entries of its own schema). The runtime
 * configuration knows these names, so they are checked where it is at hand: `check` and the
 * service's policy load and reload.
 */
import type { Problem } from '../errors.ts';
import type { PolicyConfig } from './config.ts';
import { displayPath } from './problem-path.ts';

export interface RuntimeTopics {
  readonly input: string;
  readonly audit: string;
  readonly dlq: string;
  /** Absent where the caller has no inventory topic (older callers, tests). */
  readonly inventory?: string;
}

const ROLES: readonly (readonly [keyof RuntimeTopics, string])[] = [
  ['input', 'the input topic (PHIGATE_INPUT_TOPIC)'],
  ['audit', 'the audit topic (PHIGATE_AUDIT_TOPIC)'],
  ['dlq', 'the dead-letter topic (PHIGATE_DLQ_TOPIC)'],
  ['inventory', 'the inventory topic (PHIGATE_INVENTORY_TOPIC)'],
];

/** One problem per destination whose topic is one of phi-gate's own. */
export function runtimeTopicProblems(config: PolicyConfig, topics: RuntimeTopics): Problem[] {
  const problems: Problem[] = [];
  for (const d of config.destinations) {
    for (const [role, what] of ROLES) {
      if (d.topic !== topics[role]) continue;
      problems.push({
        path: displayPath(['destinations', d.name, 'topic']),
        message: `topic '${d.topic}' is ${what}: a destination needs a topic of its own`,
      });
    }
  }
  return problems;
}
