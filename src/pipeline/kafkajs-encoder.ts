/**
 * Two allocation costs of kafkajs's protocol encoder, removed. kafkajs (2.2.4, its last release)
 * encodes every record into its own growing buffer and then into the request's:
 *
 * - `ensureAvailable` grew buffers with `Buffer.alloc`, zero-filling memory that is overwritten at
 *   once (the old bytes are copied in, new bytes are written before `offset` passes them);
 * - `writeUVarInt` built a JavaScript array and a Buffer from it for every varint (several per record).
 *
 * Profiled, these were ~8% of phi-gate's CPU. The replacements produce byte-identical requests
 * (test/unit/pipeline/kafkajs-encoder.test.ts checks random write sequences against kafkajs's own
 * methods, with the unsafe memory poisoned): an encoder only ever exposes `buf[0, offset)`, and every
 * byte below `offset` has been written.
 *
 * A prototype patch of one pinned dependency, applied at start by the service (and the benchmark's
 * pass-through, so the two are compared with the same client). Idempotent.
 */
import { createRequire } from 'node:module';

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): EncoderInstance;
}

interface EncoderClass {
  prototype: EncoderInstance;
  nextPowerOfTwo(value: number): number;
}

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;

/** kafkajs's own methods, kept for the differential test. */
export const originalEncoderMethods = {
  ensureAvailable: Encoder.prototype.ensureAvailable,
  writeUVarInt: Encoder.prototype.writeUVarInt,
} as const;

function ensureAvailable(this: EncoderInstance, length: number): void {
  if (this.offset + length > this.buf.length) {
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  }
}

/** Unsigned LEB128 of a 32-bit value (what kafkajs writes: `value` is treated as uint32). */
function writeUVarInt(this: EncoderInstance, value: number): EncoderInstance {
  let v = value >>> 0;
  this.ensureAvailable(5);
  const buf = this.buf;
  let offset = this.offset;
  while (v > 0x7f) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  this.offset = offset;
  return this;
}

export function tuneKafkajsEncoder(): void {
  Encoder.prototype.ensureAvailable = ensureAvailable;
  Encoder.prototype.writeUVarInt = writeUVarInt;
}

/** Puts kafkajs's own methods back (tests). */
export function restoreKafkajsEncoder(): void {
  Encoder.prototype.ensureAvailable = originalEncoderMethods.ensureAvailable;
  Encoder.prototype.writeUVarInt = originalEncoderMethods.writeUVarInt;
}
