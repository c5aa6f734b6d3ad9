/**
 * Step 3–4: one batch of input records → every output record of that batch (destination records,
 * audit entries, dead letters), in memory, ready for one transaction. Nothing is sent here: if any
 * step must pause (registry unavailable), the caller retries the whole batch and no half of it leaks.
 *
 * Per record: decode once; then for each destination run its compiled plan, transform key and
 * headers, encode with the derived schema, and write one audit entry. A destination whose plan fails
 * for a record gets nothing for it (fail closed); the other destinations are unaffected.
 */
import type { ErrorCode, PhiGateError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Decision, Destination, Policy } from '../policy/index.ts';
import type { AuditEncoder } from './audit.ts';
import type { Decoder } from './decode.ts';
import { deadLetter } from './dlq.ts';
import type { InventoryView } from './inventory.ts';
import {
  type InputRecord,
  MAX_RECORD_BYTES,
  type OutMessage,
  type Source,
  type TopicMessages,
} from './records.ts';
import type { Route, Routes } from './routes.ts';

export interface BatchContext {
  readonly decoder: Decoder;
  readonly routes: Routes;
  readonly audit: AuditEncoder;
  readonly metrics: Metrics;
  readonly dlqTopic: string;
  readonly auditTopic: string;
  /** The data inventory; absent: no inventory entries are written (a test driver may leave it out). */
  readonly inventory?: InventoryView;
  /** Partition count of a topic phi-gate writes, for records whose key a destination drops. */
  readonly partitionsOf: (topic: string) => number | undefined;
  readonly now: () => number;
}

export interface BatchOutput {
  readonly topicMessages: TopicMessages[];
  readonly records: number;
  /** Adds the batch's outcome, field-action and DLQ counts to the metrics: call once it committed. */
  readonly count: (metrics: Metrics) => void;
}

export async function processBatch(
  ctx: BatchContext,
  policy: Policy,
  input: { readonly topic: string; readonly partition: number },
  records: readonly InputRecord[],
): Promise<BatchOutput> {
  const out = new Outputs();
  const counts = new Counts();
  const now = ctx.now();
  const destinations = policy.destinations;
  let slice = performance.now();
  let n = 0;

  for (const record of records) {
    if ((++n & 15) === 0 && performance.now() - slice >= SLICE_MS) {
      await yieldToEventLoop();
      slice = performance.now();
    }
    const source: Source = { topic: input.topic, partition: input.partition, offset: record.offset };
    let decoded =
      record.unreadable === undefined
        ? ctx.decoder.decode(record.value)
        : ({ ok: false, error: record.unreadable } as const);
    if (decoded instanceof Promise) decoded = await decoded;
    if (!decoded.ok) {
      out.push(ctx.dlqTopic, deadLetter(record.key, record.value, record.headers, decoded.error, source));
      out.push(ctx.auditTopic, ctx.audit.deadLetter(decoded.error, source, now));
      counts.dlq(decoded.error.code);
      continue;
    }
    const value = decoded.value;
    const messageId =
      // an empty id would key every such event's audit entries alike: compaction would erase them
      typeof value.messageId === 'string' && value.messageId.length > 0
        ? value.messageId
        : `${input.topic}-${input.partition}-${record.offset}`;
    const pseudonym = pseudonymOf(policy, value);

    for (const destination of destinations) {
      let route = ctx.routes.get(decoded.schemaId, decoded.type, destination);
      if (route instanceof Promise) {
        // a route compiled: the first record of this schema id under this destination version
        ctx.inventory?.note(decoded.schemaId);
        route = await route;
      }
      const decision = route.ok
        ? deliver(ctx, out, destination, route, value, record, input.partition)
        : failedRouteDecision(destination, route.error);
      out.push(ctx.auditTopic, ctx.audit.event(decision, messageId, source, pseudonym, now));
      counts.decision(decision);
    }
  }
  return { topicMessages: out.toArray(), records: records.length, count: (metrics) => counts.flush(metrics) };
}

/**
 * The step gives the event loop a turn at least this often. A batch is tens of milliseconds of CPU;
 * run in one piece it held up the engine's I/O behind it — a transaction's round trips waited for
 * the next batch's step to end: 180 ms a transaction under load, 77 ms with these turns
 * (BENCHMARKS.md, session 9).
 */
const SLICE_MS = 4;

/** Resolves after the I/O callbacks that are due (setImmediate runs after the poll phase). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs one destination's plan on one record; pushes its output and returns the decision to audit. */
function deliver(
  ctx: BatchContext,
  out: Outputs,
  destination: Destination,
  route: Route,
  value: Record<string, unknown>,
  record: InputRecord,
  inputPartition: number,
): Decision {
  const result = route.plan.apply(value);
  if (result.outcome !== 'delivered') return result.decision;
  let encoded: Buffer;
  try {
    encoded = route.encode(result.value);
  } catch {
    // the plan produced a value its own derived type rejects: a bug, and never a reason to leak
    return failClosed(result.decision, 'PHIGATE_ERR_ENCODE');
  }
  if (encoded.length > MAX_RECORD_BYTES) return failClosed(result.decision, 'PHIGATE_ERR_RECORD_TOO_LARGE');
  const key = destination.transformKey(record.key);
  const message: OutMessage = { key, value: encoded };
  if (key === null) {
    // no key to partition by: keep the input partition's order instead
    const partitions = ctx.partitionsOf(destination.topic);
    if (partitions !== undefined) message.partition = inputPartition % partitions;
  }
  if (destination.keepHeaders && record.headers)
    message.headers = record.headers as Record<string, Buffer | string>;
  out.push(destination.topic, message);
  return result.decision;
}

function failClosed(decision: Decision, errorCode: ErrorCode): Decision {
  return { ...decision, outcome: 'failed_closed', errorCode };
}

function failedRouteDecision(destination: Destination, error: PhiGateError): Decision {
  return {
    destination: destination.name,
    policyVersion: destination.version,
    outcome: 'failed_closed',
    eventType: null,
    eventName: null,
    fields: {},
    kids: [],
    errorCode: error.code,
  };
}

function pseudonymOf(policy: Policy, value: Record<string, unknown>): string | null {
  const id =
    typeof value.userId === 'string'
      ? value.userId
      : typeof value.anonymousId === 'string'
        ? value.anonymousId
        : null;
  return id === null ? null : policy.pseudonymize(id);
}

/** Output records grouped by topic, in input order within each topic. */
class Outputs {
  readonly #byTopic = new Map<string, OutMessage[]>();

  push(topic: string, message: OutMessage): void {
    let list = this.#byTopic.get(topic);
    if (!list) {
      list = [];
      this.#byTopic.set(topic, list);
    }
    list.push(message);
  }

  toArray(): TopicMessages[] {
    return [...this.#byTopic].map(([topic, messages]) => ({ topic, messages }));
  }
}

/** Metric increments aggregated per batch: one counter update per label set, not per record. */
class Counts {
  // destination → label value → count: no key string is built per record or per field
  readonly #outcomes = new Map<string, Map<string, number>>();
  readonly #failures = new Map<string, Map<string, number>>();
  /**
   * destination → decision fields object → decisions with it. Events of one shape share a frozen
   * fields object (plan.ts), so a decision costs one count here; its field actions are added up per
   * label at flush.
   */
  readonly #fields = new Map<string, Map<Readonly<Record<string, string>>, number>>();
  readonly #dlq = new Map<string, number>();

  decision(d: Decision): void {
    bump(inner(this.#outcomes, d.destination), d.outcome);
    if (d.outcome === 'failed_closed') bump(inner(this.#failures, d.destination), d.errorCode ?? 'unknown');
    bump(inner(this.#fields, d.destination), d.fields);
  }

  dlq(code: string): void {
    bump(this.#dlq, code);
  }

  flush(metrics: Metrics): void {
    for (const [destination, byOutcome] of this.#outcomes)
      for (const [outcome, n] of byOutcome) metrics.destinationEvents.inc({ destination, outcome }, n);
    for (const [destination, byFields] of this.#fields) {
      const byAction = new Map<string, number>();
      for (const [fields, n] of byFields) for (const action of actionsOf(fields)) bump(byAction, action, n);
      for (const [action, n] of byAction) metrics.fieldActions.inc({ destination, action }, n);
    }
    for (const [destination, byCode] of this.#failures)
      for (const [code, n] of byCode) metrics.failClosed.inc({ destination, code }, n);
    for (const [reason, n] of this.#dlq) metrics.dlqRecords.inc({ reason }, n);
  }
}

function inner<K>(map: Map<string, Map<K, number>>, key: string): Map<K, number> {
  let m = map.get(key);
  if (!m) {
    m = new Map();
    map.set(key, m);
  }
  return m;
}

/** Label values of a decision's field actions; listed once per frozen (plan-owned) fields object. */
const actionLists = new WeakMap<object, readonly string[]>();

function actionsOf(fields: Readonly<Record<string, string>>): readonly string[] {
  let list = actionLists.get(fields);
  if (list === undefined) {
    list = Object.values(fields).map(actionName);
    if (Object.isFrozen(fields)) actionLists.set(fields, list);
  }
  return list;
}

/** Action strings come from compiled plans (a closed set): their label values are computed once. */
const actionNames = new Map<string, string>();

/** 'sha256:email' → 'sha256', 'failed:PHIGATE_ERR_X' → 'failed': a closed set of label values. */
function actionName(action: string): string {
  let name = actionNames.get(action);
  if (name === undefined) {
    const colon = action.indexOf(':');
    name = colon === -1 ? action : action.slice(0, colon);
    // bounded anyway: 'failed:<code>' and '<hash>:<kind>' spellings are finite; guard against surprises
    if (actionNames.size < 10_000) actionNames.set(action, name);
  }
  return name;
}

function bump<K>(map: Map<K, number>, key: K, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
