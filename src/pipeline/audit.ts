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
 * An Avro record is the concatenation of its fields' encodings, so an event entry is written in four
 * parts, of which two are the same for every event of one decision shape:
 *
 *   head     formatVersion … outcome                      per destination and outcome
 *   id       messageId                                    per event
 *   middle   eventType … errorCode (the `fields` map too)   per decision shape
 *   tail     sourceTopic … userPseudonym                  per event
 *
 * A plan hands out the same frozen `fields` object for every event of one shape: the head and middle
 * bytes are encoded once and kept with it (a WeakMap, so they go when the plan does), next to the
 * decision values they were encoded from. A decision whose values differ (another event name with
 * the same fields, or the `fields` of another destination) gets encodings of its own, up to
 * SHAPES_PER_FIELDS per object. Per event, only the message id and the tail are encoded.
 */
interface Parts {
  // encoded once per shape (avsc's toBuffer: exact-size buffers, kept with the shape)
  readonly head: avro.Type;
  readonly middleBeforeMap: avro.Type;
  readonly map: avro.Type;
  readonly middleAfterMap: avro.Type;
  // encoded per event, straight into the output slab
  readonly id: AvroCodec;
  readonly tail: AvroCodec;
}

/** The values of an event entry that come from its decision, all but its `fields` map. */
interface DecisionValues {
  readonly formatVersion: number;
  readonly kind: 'event';
  readonly destination: string;
  readonly outcome: string;
  readonly eventType: string | null;
  readonly eventName: string | null;
  readonly policyVersion: string;
  readonly keyIds: readonly string[];
  readonly errorCode: string | null;
}

function decisionValues(d: Decision): DecisionValues {
  return {
    formatVersion: AUDIT_FORMAT_VERSION,
    kind: 'event',
    destination: d.destination,
    outcome: d.outcome,
    eventType: d.eventType,
    eventName: d.eventName,
    policyVersion: d.policyVersion,
    keyIds: d.kids,
    errorCode: d.errorCode,
  };
}

/** The encoded head and middle of one decision shape, and the decision values they hold. */
interface Shape {
  readonly values: DecisionValues;
  readonly head: Buffer;
  readonly middle: Buffer;
}

/** Decision shapes kept per frozen `fields` object (the shared empty one serves many). */
const SHAPES_PER_FIELDS = 16;

/** The per-event values of an event entry: one object, rewritten for each entry the encoder writes. */
interface EventScratch {
  messageId: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  processedAt: number;
  userPseudonym: string | null;
}

/** The parts, by field order: every field of the schema is in exactly one of them. */
function splitParts(parsed: { fields: { name: string; type: unknown }[] }): Parts {
  const at = (name: string): number => parsed.fields.findIndex((f) => f.name === name);
  const [id, map, tail] = [at('messageId'), at('fields'), at('sourceTopic')];
  if (!(0 < id && id < map && map < tail))
    throw new Error('the audit schema changed: AuditEncoder splits it at messageId, fields and sourceTopic');
  const part = (name: string, from: number, to: number) =>
    compileType({ type: 'record', name, fields: parsed.fields.slice(from, to) });
  return {
    head: part('AuditEntryHead', 0, id),
    middleBeforeMap: part('AuditEntryMiddle', id + 1, map),
    map: compileType(parsed.fields[map]?.type),
    middleAfterMap: part('AuditEntryMiddleTail', map + 1, tail),
    id: codecFor(part('AuditEntryId', id, id + 1)),
    tail: codecFor(part('AuditEntryTail', tail, parsed.fields.length)),
  };
}

export class AuditEncoder {
  readonly #codec: AvroCodec;
  readonly #header: Buffer;
  readonly #parts: Parts;
  readonly #shapes = new WeakMap<object, Shape[]>();
  readonly #scratch: EventScratch = {
    messageId: '',
    sourceTopic: '',
    sourcePartition: 0,
    sourceOffset: 0,
    processedAt: 0,
    userPseudonym: null,
  };

  private constructor(parsed: { fields: { name: string; type: unknown }[] }, schemaId: number) {
    this.#codec = codecFor(compileType(parsed));
    this.#header = frameHeader(schemaId);
    this.#parts = splitParts(parsed);
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
    const scratch = this.#scratch;
    scratch.messageId = messageId;
    scratch.sourceTopic = source.topic;
    scratch.sourcePartition = source.partition;
    scratch.sourceOffset = Number(source.offset);
    scratch.processedAt = now;
    scratch.userPseudonym = pseudonym;
    return { key: `${decision.destination}/${messageId}`, value: this.#encodeEvent(decision) };
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

  /** An event entry of the scratch values: head, id, middle and tail straight into the output slab. */
  #encodeEvent(decision: Decision): Buffer {
    const shape = this.#shape(decision);
    const { id, tail } = this.#parts;
    const scratch = this.#scratch;
    const { buf, at } = outputs;
    let pos = at + HEADER_SIZE + shape.head.length;
    if (pos <= buf.length) {
      buf.set(this.#header, at);
      buf.set(shape.head, at + HEADER_SIZE);
      pos = id.encode(scratch, buf, pos);
      if (pos >= 0 && pos + shape.middle.length <= buf.length) {
        buf.set(shape.middle, pos);
        pos = tail.encode(scratch, buf, pos + shape.middle.length);
        if (pos >= 0) return outputs.take(pos);
      }
    }
    // past the end of the slab: the whole entry in one go, on a fresh slab if need be
    return this.#encode({ ...shape.values, fields: decision.fields, ...scratch });
  }

  /** The head and middle of the decision's shape: kept with a frozen `fields` object, else encoded now. */
  #shape(decision: Decision): Shape {
    const { fields } = decision;
    const frozen = Object.isFrozen(fields);
    const shapes = frozen ? this.#shapes.get(fields) : undefined;
    if (shapes !== undefined) {
      for (const shape of shapes) if (sameShape(shape, decision)) return shape;
    }
    const { head, middleBeforeMap, map, middleAfterMap } = this.#parts;
    const values = decisionValues(decision);
    const shape: Shape = {
      values,
      head: head.toBuffer(values),
      middle: Buffer.concat([
        middleBeforeMap.toBuffer(values),
        map.toBuffer(fields),
        middleAfterMap.toBuffer(values),
      ]),
    };
    if (frozen) {
      if (shapes === undefined) this.#shapes.set(fields, [shape]);
      else if (shapes.length < SHAPES_PER_FIELDS) shapes.push(shape);
    }
    return shape;
  }

  /** A whole entry with the full codec: dead letters, policy changes, and an event past the slab's end. */
  #encode(entry: Record<string, unknown>): Buffer {
    return encodeFramed(this.#codec, this.#header, entry);
  }
}

/** The decision has the values the shape was encoded from (the kids list by identity: plans share theirs). */
function sameShape({ values: v }: Shape, d: Decision): boolean {
  return (
    v.eventName === d.eventName &&
    v.destination === d.destination &&
    v.outcome === d.outcome &&
    v.eventType === d.eventType &&
    v.policyVersion === d.policyVersion &&
    v.keyIds === d.kids &&
    v.errorCode === d.errorCode
  );
}
