/**
 * The records of the pipeline's contract: what a batch step takes in and what it gives back. No
 * Kafka client type appears here; `src/kafka/` converts its client's records into these and writes
 * these out.
 */

import type { PhiGateError } from '../errors.ts';

/** Header values as Kafka carries them; a name may repeat. */
export type RecordHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

/** One record read from the input topic. */
export interface InputRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: RecordHeaders;
  /** Decimal offset in its partition. */
  readonly offset: string;
  /** Decimal epoch milliseconds (the record's timestamp). */
  readonly timestamp: string;
  /**
   * Set by an engine for a record its client could not read — one of a compressed batch that is
   * corrupt or inflates beyond the limit (PHIGATE_ERR_BAD_BATCH). Key and value are then null: the
   * record is dead-lettered with this error, and its bytes stay in the input topic.
   */
  readonly unreadable?: PhiGateError;
}

/** The record at `offset` that the engine's client could not read: no key, no value, the error saying why. */
export function unreadableRecord(offset: string, timestamp: string, error: PhiGateError): InputRecord {
  return { key: null, value: null, offset, timestamp, unreadable: error };
}

/** Where an input record came from. */
export interface Source {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** One record to write. `partition` absent: placed by its key (murmur2, as the Java client does). */
export interface OutMessage {
  key: Buffer | string | null;
  value: Buffer | null;
  partition?: number;
  headers?: Record<string, Buffer | string>;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: OutMessage[];
}

/**
 * A single sanitized record above this is failed closed for its destination instead of being sent:
 * brokers refuse records over `message.max.bytes` (1 MiB by default), and a refused record would
 * stall the partition. The margin leaves room for the record batch framing.
 */
export const MAX_RECORD_BYTES = 512 * 1024 - 1024;
