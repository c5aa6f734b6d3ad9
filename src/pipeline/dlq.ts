/**
 * Step 4c: dead letters. The raw key and bytes, untouched, with headers naming the error code, the
 * reason and where the record came from. The DLQ therefore holds PHI: it needs the same ACLs as the
 * input topic. The reason is a catalogue message — it never quotes the record.
 */
import type { PhiGateError } from '../errors.ts';
import type { OutMessage, RecordHeaders, Source } from './records.ts';

export const DLQ_HEADERS = {
  code: 'phigate.error.code',
  reason: 'phigate.error.reason',
  topic: 'phigate.source.topic',
  partition: 'phigate.source.partition',
  offset: 'phigate.source.offset',
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
  return { key, value, headers: out };
}
