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

/** Scratch space of `encodeFramed`: grows to the largest record seen, never shrinks. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Encodes `value` with a compiled codec (src/avro/codec.ts) straight behind `header` in a reused
 * scratch buffer and copies the result once into a buffer of the exact size. Throws
 * PHIGATE_ERR_ENCODE when the value does not match the codec's type.
 */
export function encodeFramed(codec: AvroCodec, header: Buffer, value: unknown): Buffer {
  header.copy(scratch, 0, 0, HEADER_SIZE);
  let end = codec.encode(value, scratch, HEADER_SIZE);
  if (end < 0) {
    // the codec returns minus the bytes missing
    const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    header.copy(bigger, 0, 0, HEADER_SIZE);
    scratch = bigger;
    end = codec.encode(value, scratch, HEADER_SIZE);
  }
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, 0, 0, end);
  return out;
}
