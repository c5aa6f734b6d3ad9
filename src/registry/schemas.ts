/**
 * Schema caches in front of the registry:
 *
 * - WriterTypes: schema id → compiled avsc Type. The registry is asked once per id; concurrent misses
 *   for one id share a single request, and an id the registry does not know is remembered by the
 *   client (RegistryClientOptions.unknownSchemaTtlMs), so its records do not ask one by one. Types are built with `wrapUnions: 'auto'` and no logical-type
 *   hooks: the policy engine walks exactly that shape.
 * - DerivedSchemas: (subject, derived schema) → registered id, likewise deduplicated. A rejection by
 *   the registry (incompatible evolution) is remembered for a while, so that a destination failing
 *   closed does not cost one registry request per batch.
 */
import avro from 'avsc';
import { PhiGateError } from '../errors.ts';
import type { RegisteredSchema } from './client.ts';

/**
 * What the caches need of a schema registry: resolve an id, register a schema under a subject.
 * RegistryClient is the one the service uses (its errors are the catalogue's, see client.ts); the
 * unit-test driver (test/helpers/) holds schemas in memory.
 */
export interface SchemaStore {
  /** The schema registered under `id`; PHIGATE_ERR_UNKNOWN_SCHEMA when there is none. */
  getSchema(id: number): Promise<RegisteredSchema>;
  /** Registers `schema` under `subject` and returns its id (the same id for the same schema). */
  register(subject: string, schema: string): Promise<number>;
}

/**
 * Compiles an Avro schema the way every part of phi-gate expects it: unions of null and one type
 * unwrapped, ambiguous unions wrapped, no logical-type hooks. A fresh options object each time:
 * avsc writes its named-type registry into the options it is given.
 */
export function compileType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });
}

/** The subject of a topic's record values (TopicNameStrategy): where every schema phi-gate writes or reads lives. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * A registered writer schema as phi-gate uses it: the parsed JSON (it keeps the logical types a
 * compiled Type forgets) and the compiled Type. `what` names it in the PHIGATE_ERR_BAD_SCHEMA error.
 */
export function writerOf(registered: RegisteredSchema, what: string): { schema: unknown; type: avro.Type } {
  if (registered.schemaType.toUpperCase() !== 'AVRO') {
    throw new PhiGateError('PHIGATE_ERR_BAD_SCHEMA', `${what} is ${registered.schemaType}, not Avro`);
  }
  try {
    const schema: unknown = JSON.parse(registered.schema);
    return { schema, type: compileType(schema) };
  } catch (cause) {
    throw new PhiGateError('PHIGATE_ERR_BAD_SCHEMA', `${what} is not a valid Avro schema`, { cause });
  }
}

export class WriterTypes {
  readonly #client: SchemaStore;
  readonly #types = new Map<number, avro.Type>();
  readonly #schemas = new Map<number, unknown>();
  readonly #inflight = new Map<number, Promise<avro.Type>>();
  readonly #onSize: (size: number) => void;

  constructor(client: SchemaStore, onSize: (size: number) => void = () => undefined) {
    this.#client = client;
    this.#onSize = onSize;
  }

  /** The cached type, without I/O: the per-record fast path. */
  peek(id: number): avro.Type | undefined {
    return this.#types.get(id);
  }

  /** Fetches and compiles the writer type of `id`, once. Throws catalogue errors (see client.ts). */
  load(id: number): Promise<avro.Type> {
    const cached = this.#types.get(id);
    if (cached) return Promise.resolve(cached);
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = this.#fetch(id).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, pending);
    }
    return pending;
  }

  /** The parsed writer schema of a loaded id: it keeps what a compiled Type forgets (logical types). */
  schema(id: number): unknown {
    return this.#schemas.get(id);
  }

  get size(): number {
    return this.#types.size;
  }

  async #fetch(id: number): Promise<avro.Type> {
    const { schema, type } = writerOf(await this.#client.getSchema(id), `schema id ${id}`);
    this.#schemas.set(id, schema);
    this.#types.set(id, type);
    this.#onSize(this.#types.size);
    return type;
  }
}

const REJECTION_TTL_MS = 60_000;

export class DerivedSchemas {
  readonly #client: SchemaStore;
  readonly #ids = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<number>>();
  readonly #rejected = new Map<string, { error: PhiGateError; until: number }>();
  readonly #onSize: (size: number) => void;

  constructor(client: SchemaStore, onSize: (size: number) => void = () => undefined) {
    this.#client = client;
    this.#onSize = onSize;
  }

  /** Registers `schema` (already canonical JSON text) under `subject`, once per process. */
  register(subject: string, schema: string): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    const id = this.#ids.get(key);
    if (id !== undefined) return Promise.resolve(id);
    const rejected = this.#rejected.get(key);
    if (rejected && rejected.until > Date.now()) return Promise.reject(rejected.error);
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#client
        .register(subject, schema)
        .then((registered) => {
          this.#ids.set(key, registered);
          this.#rejected.delete(key);
          this.#onSize(this.#ids.size);
          return registered;
        })
        .catch((err: unknown) => {
          if (err instanceof PhiGateError && err.code === 'PHIGATE_ERR_REGISTRY_REJECTED') {
            this.#rejected.set(key, { error: err, until: Date.now() + REJECTION_TTL_MS });
          }
          throw err;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }
}
