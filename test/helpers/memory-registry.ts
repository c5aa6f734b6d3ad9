/**
 * An in-memory schema store for unit tests (the SchemaStore of src/registry/schemas.ts): ids are
 * assigned in order from 1; registering the same schema text (canonical JSON) again returns the id it
 * already has, under any subject, as a Confluent registry does. Compatibility is NOT checked: any
 * schema is accepted under any subject, so a test here cannot show that a registry would refuse an
 * evolution (PHIGATE_ERR_REGISTRY_REJECTED) — integration tests run the real registry for that.
 * An id that was never registered fails as the real client fails on a 40403:
 * PHIGATE_ERR_UNKNOWN_SCHEMA (the record goes to the DLQ).
 */
import { PhiGateError } from '../../src/errors.ts';
import type { RegisteredSchema } from '../../src/registry/client.ts';
import type { SchemaStore } from '../../src/registry/schemas.ts';

export interface Registration {
  readonly subject: string;
  readonly id: number;
}

export class MemorySchemaStore implements SchemaStore {
  readonly #byId = new Map<number, string>();
  readonly #byText = new Map<string, number>();
  readonly #subjects = new Map<string, number[]>();
  readonly #calls: Registration[] = [];

  async getSchema(id: number): Promise<RegisteredSchema> {
    return { schemaType: 'AVRO', schema: this.text(id) };
  }

  async register(subject: string, schema: string): Promise<number> {
    return this.add(subject, schema);
  }

  /** `register`, synchronously: for a test's own writer schemas (JSON text). */
  add(subject: string, schema: string): number {
    const text = JSON.stringify(JSON.parse(schema));
    let id = this.#byText.get(text);
    if (id === undefined) {
      id = this.#byId.size + 1;
      this.#byId.set(id, text);
      this.#byText.set(text, id);
    }
    const versions = this.#subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.#subjects.set(subject, versions);
    this.#calls.push({ subject, id });
    return id;
  }

  /** The canonical text registered under `id`; throws as `getSchema` does. */
  text(id: number): string {
    const text = this.#byId.get(id);
    // the message the real client gives (src/registry/client.ts, unknownSchema)
    if (text === undefined)
      throw new PhiGateError('PHIGATE_ERR_UNKNOWN_SCHEMA', `schema id ${id} is not known to the registry`);
    return text;
  }

  /** Ids registered under `subject`, in registration order (its "versions"). */
  versions(subject: string): readonly number[] {
    return this.#subjects.get(subject) ?? [];
  }

  /** Every `register` call so far, in order (repeats included): what the service asked of the registry. */
  get registrations(): readonly Registration[] {
    return this.#calls;
  }
}
