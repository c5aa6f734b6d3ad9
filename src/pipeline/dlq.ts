/**
 * Step 4c: dead letters. The raw key and bytes, untouched, with headers naming the error code, the
 * reason and where the record came from. The DLQ therefore holds PHI: it needs the same ACLs as the
 * input topic. The reason is a catalogue message — it never quotes the record.
 */
import type { PhiGateError } from '../errors.ts';
import { MAX_RECORD_BYTES, type OutMessage, type RecordHeaders, type Source } from './records.ts';

export const DLQ_HEADERS = {
  code: 'phigate.error.code',
  reason: 'phigate.error.reason',
  topic: 'phigate.source.topic',
  partition: 'phigate.source.partition',
  offset: 'phigate.source.offset',
  /** Set when the raw value was left out: its size in bytes. */
  droppedValueBytes: 'phigate.error.value-bytes',
} as const;

export function deadLetter(
  key: Buffer | null,
  value: Buffer | null,
  headers: RecordHeaders | undefined,
  error: PhiGateError,
  source: Source,
): OutMessage {
  const out: Record<string, Buffer | string> = {};
  // the producer's own headers are kept (they may matter for a replay); ours win on a name clash
  for (const [name, v] of Object.entries(headers ?? {})) {
    if (v !== undefined && !Array.isArray(v)) out[name] = v;
  }
  out[DLQ_HEADERS.code] = error.code;
  out[DLQ_HEADERS.reason] = error.message;
  out[DLQ_HEADERS.topic] = source.topic;
  out[DLQ_HEADERS.partition] = String(source.partition);
  out[DLQ_HEADERS.offset] = source.offset;
  // A dead letter the broker would refuse would stall the partition on every retry: a record that
  // large keeps its key and headers (where it came from, why) and leaves its value in the input
  // topic, from which a replay reads it.
  if (value !== null && recordBytes(key, value, out) > MAX_RECORD_BYTES) {
    out[DLQ_HEADERS.droppedValueBytes] = String(value.length);
    return { key, value: null, headers: out };
  }
  return { key, value, headers: out };
}

function recordBytes(key: Buffer | null, value: Buffer, headers: Record<string, Buffer | string>): number {
  let size = (key?.length ?? 0) + value.length;
  for (const [name, v] of Object.entries(headers)) size += name.length + Buffer.byteLength(v);
  return size;
}
