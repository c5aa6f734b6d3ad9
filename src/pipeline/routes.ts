/**
 * Step 2: (writer schema id, destination) → a route: the destination's compiled plan plus the
 * encoder of its output format. Built once per (schema id, destination, policy version) — the
 * derived schema is registered under `<destination topic>-value` at that moment, never per record.
 *
 * A plan that cannot be compiled, or a derived schema the registry refuses, makes a failed route:
 * every record of that schema fails closed for that destination (it gets nothing), the others go on.
 * A registry that does not answer is thrown instead: the batch pauses and retries.
 */
import type avro from 'avsc';
import { codecFor } from '../avro/codec.ts';
import { isPhiGateError, type PhiGateError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Destination, Plan } from '../policy/index.ts';
import { DerivedSchemas, type SchemaStore, valueSubject, WriterTypes } from '../registry/schemas.ts';
import { encodeFramed, frameHeader } from './wire.ts';

export interface Route {
  readonly ok: true;
  readonly plan: Plan;
  /** The registered id of the derived schema; null for `format: json`. */
  readonly schemaId: number | null;
  encode(value: unknown): Buffer;
}

export interface FailedRoute {
  readonly ok: false;
  readonly error: PhiGateError;
}

export class Routes {
  readonly #derived: DerivedSchemas;
  readonly #writerSchema: (schemaId: number) => unknown;
  readonly #routes = new Map<string, Route | FailedRoute>();
  readonly #inflight = new Map<string, Promise<Route | FailedRoute>>();
  /** schema id → destination object → route: the per-record lookup, with no key string built. */
  readonly #known = new Map<number, Map<Destination, Route | FailedRoute>>();

  /** `writerSchema` gives the parsed schema of an id, so derived schemas keep its logical types. */
  constructor(derived: DerivedSchemas, writerSchema: (schemaId: number) => unknown) {
    this.#derived = derived;
    this.#writerSchema = writerSchema;
  }

  /** Synchronous when the route is known (the per-record path); a promise the first time. */
  get(
    schemaId: number,
    type: avro.Type,
    destination: Destination,
  ): Route | FailedRoute | Promise<Route | FailedRoute> {
    const fast = this.#known.get(schemaId)?.get(destination);
    if (fast) return fast;
    const key = `${schemaId}/${destination.name}/${destination.version}`;
    const known = this.#routes.get(key);
    if (known) {
      let bySchema = this.#known.get(schemaId);
      if (!bySchema) {
        bySchema = new Map();
        this.#known.set(schemaId, bySchema);
      }
      bySchema.set(destination, known);
      return known;
    }
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#build(type, this.#writerSchema(schemaId), destination)
        .then((route) => {
          // registry rejections are retried later (DerivedSchemas remembers them for a while)
          if (route.ok || route.error.code !== 'PHIGATE_ERR_REGISTRY_REJECTED') this.#routes.set(key, route);
          return route;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** Forgets routes of destination versions no longer in force (after a policy swap). */
  retain(destinations: readonly Destination[]): void {
    this.#known.clear(); // rebuilt from #routes on the next lookups
    const live = new Set(destinations.map((d) => `${d.name}/${d.version}`));
    for (const key of this.#routes.keys()) {
      if (!live.has(key.slice(key.indexOf('/') + 1))) this.#routes.delete(key);
    }
  }

  get size(): number {
    return this.#routes.size;
  }

  async #build(
    type: avro.Type,
    writerSchema: unknown,
    destination: Destination,
  ): Promise<Route | FailedRoute> {
    let plan: Plan;
    try {
      plan = destination.compile(type, { writerSchema });
    } catch (err) {
      if (isPhiGateError(err)) return { ok: false, error: err };
      throw err;
    }
    if (destination.format === 'json') {
      return { ok: true, plan, schemaId: null, encode: (value) => Buffer.from(plan.toJson(value), 'utf8') };
    }
    let schemaId: number;
    try {
      schemaId = await this.#derived.register(valueSubject(destination.topic), JSON.stringify(plan.schema));
    } catch (err) {
      if (isPhiGateError(err) && err.disposition === 'fail_closed') return { ok: false, error: err };
      throw err;
    }
    const header = frameHeader(schemaId);
    const codec = codecFor(plan.type);
    return { ok: true, plan, schemaId, encode: (value) => encodeFramed(codec, header, value) };
  }
}

/**
 * The schema side of the pipeline over one schema store (the registry, or the test driver's memory):
 * writer types by id, and the routes that register and cache derived schemas, with their cache sizes
 * reported to the metrics.
 */
export function createRoutes(store: SchemaStore, metrics: Metrics): { types: WriterTypes; routes: Routes } {
  const types = new WriterTypes(store, (n) => metrics.registryCacheSize.set({ cache: 'writer' }, n));
  const derived = new DerivedSchemas(store, (n) => metrics.registryCacheSize.set({ cache: 'derived' }, n));
  return { types, routes: new Routes(derived, (id) => types.schema(id)) };
}
