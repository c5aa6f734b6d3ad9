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
import type { PhiGateError } from '../errors.ts';
import { SCHEMAS_DIR } from '../paths.ts';
import type { Decision, Destination } from '../policy/index.ts';
import type { RegistryClient } from '../registry/client.ts';
import { compileType } from '../registry/schemas.ts';
import { frame, frameHeader } from './wire.ts';

export const AUDIT_FORMAT_VERSION = 1;

export interface Source {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface OutMessage {
  key: Buffer | string | null;
  value: Buffer | null;
  partition?: number;
  headers?: Record<string, Buffer | string>;
}

export class AuditEncoder {
  readonly #type: avro.Type;
  readonly #header: Buffer;

  private constructor(type: avro.Type, schemaId: number) {
    this.#type = type;
    this.#header = frameHeader(schemaId);
  }

  static readSchema(): string {
    return readFileSync(join(SCHEMAS_DIR, 'audit-entry.avsc'), 'utf8');
  }

  /** Registers the audit schema under `<topic>-value` and returns an encoder bound to its id. */
  static async create(client: RegistryClient, topic: string): Promise<AuditEncoder> {
    const text = AuditEncoder.readSchema();
    const parsed = JSON.parse(text);
    const id = await client.register(`${topic}-value`, JSON.stringify(parsed));
    return new AuditEncoder(compileType(parsed), id);
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
    return this.#type.fromBuffer(value.subarray(5)) as Record<string, unknown>;
  }

  #encode(entry: Record<string, unknown>): Buffer {
    return frame(this.#header, this.#type.toBuffer(entry));
  }
}
