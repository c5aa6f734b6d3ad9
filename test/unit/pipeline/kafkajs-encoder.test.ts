import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { restoreKafkajsEncoder, tuneKafkajsEncoder } from '../../../src/pipeline/kafkajs-encoder.ts';

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as any;

type Op =
  | { op: 'int8' | 'int16' | 'int32' | 'varint'; value: number }
  | { op: 'uvarint'; value: number }
  | { op: 'varlong'; value: bigint }
  | { op: 'bytes' | 'varintBytes' | 'buffer'; value: Uint8Array }
  | { op: 'string' | 'varintString'; value: string }
  | { op: 'nested'; value: Uint8Array[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('int8' as const), value: fc.integer({ min: -128, max: 127 }) }),
  fc.record({ op: fc.constant('int16' as const), value: fc.integer({ min: -32768, max: 32767 }) }),
  fc.record({ op: fc.constant('int32' as const), value: fc.integer() }),
  fc.record({ op: fc.constant('varint' as const), value: fc.integer() }),
  fc.record({ op: fc.constant('uvarint' as const), value: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.record({
    op: fc.constant('varlong' as const),
    value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }),
  fc.record({ op: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 3000 }) }),
  fc.record({ op: fc.constant('varintBytes' as const), value: fc.uint8Array({ maxLength: 3000 }) }),
  fc.record({ op: fc.constant('buffer' as const), value: fc.uint8Array({ maxLength: 700 }) }),
  fc.record({ op: fc.constant('string' as const), value: fc.string({ unit: 'binary', maxLength: 300 }) }),
  fc.record({ op: fc.constant('varintString' as const), value: fc.string({ maxLength: 300 }) }),
  fc.record({
    op: fc.constant('nested' as const),
    value: fc.array(fc.uint8Array({ maxLength: 900 }), { maxLength: 4 }),
  }),
);

/** Runs the writes on a fresh kafkajs Encoder, as record and request encoding do, and returns its bytes. */
function encode(ops: readonly Op[]): Buffer {
  const e = new Encoder();
  for (const o of ops) {
    switch (o.op) {
      case 'int8':
        e.writeInt8(o.value);
        break;
      case 'int16':
        e.writeInt16(o.value);
        break;
      case 'int32':
        e.writeInt32(o.value);
        break;
      case 'varint':
        e.writeVarInt(o.value);
        break;
      case 'uvarint':
        e.writeUVarInt(o.value);
        break;
      case 'varlong':
        e.writeVarLong(o.value.toString());
        break;
      case 'bytes':
        e.writeBytes(Buffer.from(o.value));
        break;
      case 'varintBytes':
        e.writeVarIntBytes(Buffer.from(o.value));
        break;
      case 'buffer':
        e.writeBuffer(Buffer.from(o.value));
        break;
      case 'string':
        e.writeString(o.value);
        break;
      case 'varintString':
        e.writeVarIntString(o.value);
        break;
      case 'nested':
        e.writeVarIntArray(
          o.value.map((v) => new Encoder().writeVarIntBytes(Buffer.from(v))),
          'object',
        );
        break;
    }
  }
  return Buffer.from(e.buffer);
}

describe('kafkajs encoder without zero-filling or per-varint arrays', () => {
  const allocUnsafe = Buffer.allocUnsafe;
  after(() => {
    Buffer.allocUnsafe = allocUnsafe;
    restoreKafkajsEncoder();
  });

  test('writes exactly the bytes kafkajs writes, even over poisoned memory', () => {
    // every byte the tuned encoder fails to write would show up as 0xa5 instead of kafkajs's 0
    Buffer.allocUnsafe = (size: number) => allocUnsafe(size).fill(0xa5);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        restoreKafkajsEncoder();
        const expected = encode(ops);
        tuneKafkajsEncoder();
        assert.deepEqual(encode(ops), expected);
      }),
      { numRuns: 1500 },
    );
  });

  test('varints of the boundary values', () => {
    for (const v of [
      0,
      1,
      127,
      128,
      16383,
      16384,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      -1,
      -64,
      -65,
      -(2 ** 31),
    ]) {
      restoreKafkajsEncoder();
      const expected = [encode([{ op: 'varint', value: v }]), encode([{ op: 'uvarint', value: v >>> 0 }])];
      tuneKafkajsEncoder();
      assert.deepEqual(
        [encode([{ op: 'varint', value: v }]), encode([{ op: 'uvarint', value: v >>> 0 }])],
        expected,
        String(v),
      );
    }
  });
});
