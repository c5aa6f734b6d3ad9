/**
 * Step 4b: audit entries. One per event × destination (keyed `<destination>/<messageId>`), one per
 * dead letter (`dlq/<topic>/<partition>/<offset>`), one per destination version put in force
 * (`policy/<destination>/<version>`): every key names one fact, so compaction only collapses replays
 * of that same fact. Values are Avro (schemas/audit-entry.avsc, registered under `<topic>-value`) and
 * carry no PHI: decisions hold paths and actions; the user appears only as a keyed pseudonym.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type avro from 'avsc';
import { type AvroCodec, codecFor } from '../avro/codec.ts';
import type { PhiGateError } from '../errors.ts';
import { SCHEMAS_DIR } from '../paths.ts';
import type { Decision, Destination } from '../policy/index.ts';
import { compileType, type SchemaStore, valueSubject } from '../registry/schemas.ts';
import type { OutMessage, Source } from './records.ts';
import { encodeFramed, frameHeader, HEADER_SIZE, outputs } from './wire.ts';

export const AUDIT_FORMAT_VERSION = 1;

/**
 * An Avro record is the concatenation of its fields' encodings, so an entry is written as three
 * parts: the fields before `fields`, the `fields` map, the fields after it. A plan hands out the same
 * frozen `fields` object for every record of the same shape: its map encoding is computed once per
 * object (a WeakMap, so it goes when the plan does) instead of once per record and destination.
 */
interface SplitTypes {
  readonly before: AvroCodec;
  readonly map: avro.Type;
  readonly after: AvroCodec;
}

function splitTypes(parsed: { fields: { name: string; type: unknown }[] }): SplitTypes {
  const at = parsed.fields.findIndex((f) => f.name === 'fields');
  const record = (name: string, fields: unknown[]) => compileType({ type: 'record', name, fields });
  return {
    before: codecFor(record('AuditEntryHead', parsed.fields.slice(0, at))),
    map: compileType(parsed.fields[at]?.type),
    after: codecFor(record('AuditEntryTail', parsed.fields.slice(at + 1))),
  };
}

export class AuditEncoder {
  readonly #codec: AvroCodec;
  readonly #header: Buffer;
  readonly #split: SplitTypes;
  readonly #encodedFields = new WeakMap<object, Buffer>();

  private constructor(parsed: { fields: { name: string; type: unknown }[] }, schemaId: number) {
    this.#codec = codecFor(compileType(parsed));
    this.#header = frameHeader(schemaId);
    this.#split = splitTypes(parsed);
  }

  static readSchema(): string {
    return readFileSync(join(SCHEMAS_DIR, 'audit-entry.avsc'), 'utf8');
  }

  /** Registers the audit schema under `<topic>-value` and returns an encoder bound to its id. */
  static async create(client: SchemaStore, topic: string): Promise<AuditEncoder> {
    const text = AuditEncoder.readSchema();
    const parsed = JSON.parse(text);
    const id = await client.register(valueSubject(topic), JSON.stringify(parsed));
    return new AuditEncoder(parsed, id);
  }

  event(
    decision: Decision,
    messageId: string,
    source: Source,
    pseudonym: string | null,
    now: number,
  ): OutMessage {
    return {
      key: `${decision.destination}/${messageId}`,
      value: this.#encode({
        formatVersion: AUDIT_FORMAT_VERSION,
        kind: 'event',
        destination: decision.destination,
        outcome: decision.outcome,
        messageId,
        eventType: decision.eventType,
        eventName: decision.eventName,
        policyVersion: decision.policyVersion,
        fields: decision.fields,
        keyIds: decision.kids,
        errorCode: decision.errorCode,
        sourceTopic: source.topic,
        sourcePartition: source.partition,
        sourceOffset: Number(source.offset),
        processedAt: now,
        userPseudonym: pseudonym,
      }),
    };
  }

  deadLetter(error: PhiGateError, source: Source, now: number): OutMessage {
    return {
      key: `dlq/${source.topic}/${source.partition}/${source.offset}`,
      value: this.#encode({
        formatVersion: AUDIT_FORMAT_VERSION,
        kind: 'event',
        destination: '*',
        outcome: 'dead_lettered',
        messageId: null,
        eventType: null,
        eventName: null,
        policyVersion: null,
        fields: {},
        keyIds: [],
        errorCode: error.code,
        sourceTopic: source.topic,
        sourcePartition: source.partition,
        sourceOffset: Number(source.offset),
        processedAt: now,
        userPseudonym: null,
      }),
    };
  }

  policy(destination: Destination, now: number): OutMessage {
    return {
      key: `policy/${destination.name}/${destination.version}`,
      value: this.#encode({
        formatVersion: AUDIT_FORMAT_VERSION,
        kind: 'policy',
        destination: destination.name,
        outcome: 'policy_applied',
        messageId: null,
        eventType: null,
        eventName: null,
        policyVersion: destination.version,
        fields: {},
        keyIds: [...destination.keyIds],
        errorCode: null,
        sourceTopic: null,
        sourcePartition: null,
        sourceOffset: null,
        processedAt: now,
        userPseudonym: null,
      }),
    };
  }

  decode(value: Buffer): Record<string, unknown> {
    return this.#codec.decode(value.subarray(HEADER_SIZE)) as Record<string, unknown>;
  }

  #encode(entry: Record<string, unknown>): Buffer {
    const fields = entry.fields as Record<string, string>;
    let map = this.#encodedFields.get(fields);
    if (map === undefined) {
      map = this.#split.map.toBuffer(fields);
      // only a frozen object can be trusted to encode the same next time
      if (Object.isFrozen(fields)) this.#encodedFields.set(fields, map);
    }
    const { buf, at } = outputs;
    if (buf.length - at >= HEADER_SIZE) {
      this.#header.copy(buf, at);
      let pos = this.#split.before.encode(entry, buf, at + HEADER_SIZE);
      if (pos >= 0 && pos + map.length <= buf.length) {
        map.copy(buf, pos);
        pos = this.#split.after.encode(entry, buf, pos + map.length);
        if (pos >= 0) return outputs.take(pos);
      }
    }
    // past the end of the slab: the whole entry in one go, on a fresh slab if need be
    return encodeFramed(this.#codec, this.#header, entry);
  }
}
