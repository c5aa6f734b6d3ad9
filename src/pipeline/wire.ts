/**
 * The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the Avro binary body.
 * Any Confluent Avro deserializer (and Kafka Connect's AvroConverter) reads values framed this way.
 */
import type { AvroCodec } from '../avro/codec.ts';
import { PhiGateError } from '../errors.ts';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

export interface Framed {
  readonly schemaId: number;
  readonly body: Buffer;
}

/** Splits a framed value; throws a DLQ-disposition error when the frame is wrong. */
export function unframe(value: Buffer): Framed {
  if (value.length < HEADER_SIZE) {
    throw new PhiGateError(
      'PHIGATE_ERR_TRUNCATED',
      `value has ${value.length} bytes, fewer than the 5-byte header`,
    );
  }
  if (value[0] !== MAGIC_BYTE) {
    throw new PhiGateError(
      'PHIGATE_ERR_BAD_MAGIC',
      `value starts with byte ${value[0]}, not the magic byte 0`,
    );
  }
  return { schemaId: value.readInt32BE(1), body: value.subarray(HEADER_SIZE) };
}

/** The 5-byte header for `schemaId`, computed once per registered schema and reused. */
export function frameHeader(schemaId: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header[0] = MAGIC_BYTE;
  header.writeInt32BE(schemaId, 1);
  return header;
}

/** Frames an encoded body; one copy into a buffer of the exact size. */
export function frame(header: Buffer, body: Buffer): Buffer {
  return Buffer.concat([header, body], HEADER_SIZE + body.length);
}

/**
 * Output records are written straight into large slabs and handed out as exact-size views of them:
 * no copy per record, and one backing store per megabyte instead of Node's 8 KiB pool (each new
 * backing store is external memory that V8 must account for, and it pulled garbage collections
 * forward). A slab is released when the last record written into it is: after its transaction.
 * Bytes of a slab outside the views are never handed out (a view covers exactly its own record).
 */
export class OutputSlab {
  static readonly BYTES = 1024 * 1024;
  /** Where the next record is written: `buf` from `at` on. */
  buf = Buffer.allocUnsafeSlow(OutputSlab.BYTES);
  at = 0;

  /** The record written from `at` to `end`, as a view; the next record starts after it. */
  take(end: number): Buffer {
    const record = this.buf.subarray(this.at, end);
    this.at = end;
    return record;
  }

  /** A fresh slab with room for at least `bytes` (the last record did not fit the current one). */
  renew(bytes: number): void {
    this.buf = Buffer.allocUnsafeSlow(Math.max(OutputSlab.BYTES, bytes * 2));
    this.at = 0;
  }
}

/** The slab of every record phi-gate encodes (the step is synchronous per record). */
export const outputs = new OutputSlab();

/**
 * Encodes `value` with a compiled codec (src/avro/codec.ts) straight behind `header` into the output
 * slab. Throws PHIGATE_ERR_ENCODE when the value does not match the codec's type.
 */
export function encodeFramed(codec: AvroCodec, header: Buffer, value: unknown): Buffer {
  for (let attempt = 0; ; attempt++) {
    const { buf, at } = outputs;
    if (buf.length - at >= HEADER_SIZE) {
      header.copy(buf, at, 0, HEADER_SIZE);
      const end = codec.encode(value, buf, at + HEADER_SIZE);
      if (end >= 0) return outputs.take(end);
      // the codec returns minus the bytes missing
      if (attempt > 0) throw new Error(`encodeFramed: the codec asked for more room twice (${-end} bytes)`);
      outputs.renew(buf.length - at - end);
    } else {
      outputs.renew(HEADER_SIZE);
    }
  }
}
