/**
 * Step 1 of an event's path: raw Kafka record → decoded value with its writer type.
 *
 * Errors that belong to the record itself (bad frame, unknown schema id, undecodable body, tombstone)
 * come back as a `DeadLetter` so the batch goes on and the record goes to the DLQ. Errors of a
 * dependency (registry unavailable) are thrown: the batch pauses and retries, nothing is dead-lettered.
 */
import type avro from 'avsc';
import { codecFor } from '../avro/codec.ts';
import { isPhiGateError, PhiGateError } from '../errors.ts';
import type { WriterTypes } from '../registry/schemas.ts';
import { unframe } from './wire.ts';

export interface Decoded {
  readonly ok: true;
  readonly schemaId: number;
  readonly type: avro.Type;
  readonly value: Record<string, unknown>;
}

export interface DeadLetter {
  readonly ok: false;
  readonly error: PhiGateError;
}

export class Decoder {
  readonly #types: WriterTypes;

  constructor(types: WriterTypes) {
    this.#types = types;
  }

  /** Synchronous when the writer type is cached (the per-record path); a promise the first time. */
  decode(value: Buffer | null): Decoded | DeadLetter | Promise<Decoded | DeadLetter> {
    if (value === null || value.length === 0) {
      return { ok: false, error: new PhiGateError('PHIGATE_ERR_NULL_VALUE') };
    }
    let schemaId: number;
    let body: Buffer;
    try {
      ({ schemaId, body } = unframe(value));
    } catch (err) {
      return { ok: false, error: err as PhiGateError };
    }
    const type = this.#types.peek(schemaId);
    if (type === undefined) return this.#load(schemaId, body);
    return decodeBody(schemaId, type, body);
  }

  async #load(schemaId: number, body: Buffer): Promise<Decoded | DeadLetter> {
    let type: avro.Type;
    try {
      type = await this.#types.load(schemaId);
    } catch (err) {
      if (isPhiGateError(err) && err.disposition === 'dlq') return { ok: false, error: err };
      throw err; // registry unavailable: pause and retry the batch
    }
    return decodeBody(schemaId, type, body);
  }
}

function decodeBody(schemaId: number, type: avro.Type, body: Buffer): Decoded | DeadLetter {
  try {
    // the body must be consumed exactly: trailing bytes are an error, not ignored
    const decoded = codecFor(type).decode(body) as Record<string, unknown>;
    return { ok: true, schemaId, type, value: decoded };
  } catch (cause) {
    return {
      ok: false,
      error: new PhiGateError('PHIGATE_ERR_DECODE', `body does not decode with writer schema ${schemaId}`, {
        cause,
      }),
    };
  }
}
