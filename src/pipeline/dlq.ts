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
  /** Set when the raw key was left out too (a key alone too large): its size in bytes. */
  droppedKeyBytes: 'phigate.error.key-bytes',
  /** Set when the producer's own headers were left out too: how many there were. */
  droppedHeaders: 'phigate.error.headers-dropped',
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
  // (a header without a value arrives as null from some clients: nothing to keep)
  for (const [name, v] of Object.entries(headers ?? {})) {
    if (v !== undefined && v !== null && !Array.isArray(v)) out[name] = v;
  }
  out[DLQ_HEADERS.code] = error.code;
  out[DLQ_HEADERS.reason] = error.message;
  out[DLQ_HEADERS.topic] = source.topic;
  out[DLQ_HEADERS.partition] = String(source.partition);
  out[DLQ_HEADERS.offset] = source.offset;
  // A dead letter the broker would refuse would stall the partition on every retry: a record that
  // large leaves its value in the input topic, from which a replay reads it; if its key or the
  // producer's headers alone are still too large, they stay there too. What is always kept: the
  // code, the reason, where it came from, and the sizes of what was left out.
  if (recordBytes(key, value, out) <= MAX_RECORD_BYTES) return { key, value, headers: out };
  if (value !== null) out[DLQ_HEADERS.droppedValueBytes] = String(value.length);
  if (recordBytes(key, null, out) <= MAX_RECORD_BYTES) return { key, value: null, headers: out };
  if (key !== null) out[DLQ_HEADERS.droppedKeyBytes] = String(key.length);
  if (recordBytes(null, null, out) <= MAX_RECORD_BYTES) return { key: null, value: null, headers: out };
  const own: Record<string, Buffer | string> = {};
  for (const name of Object.values(DLQ_HEADERS)) if (out[name] !== undefined) own[name] = out[name];
  own[DLQ_HEADERS.droppedHeaders] = String(Object.keys(out).length - Object.keys(own).length);
  return { key: null, value: null, headers: own };
}

function recordBytes(
  key: Buffer | null,
  value: Buffer | null,
  headers: Record<string, Buffer | string>,
): number {
  let size = (key?.length ?? 0) + (value?.length ?? 0);
  for (const [name, v] of Object.entries(headers)) size += Buffer.byteLength(name) + Buffer.byteLength(v);
  return size;
}
