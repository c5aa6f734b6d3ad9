import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  restoreKafkajs,
  reuseCoordinatorLookups,
  tuneKafkajs,
} from '../../../../src/kafka/kafkajs/tuning.ts';

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

/** One write method of kafkajs's (untyped) encoder per kind of operation. */
const WRITE: Record<Op['op'], (e: any, v: any) => void> = {
  int8: (e, v) => e.writeInt8(v),
  int16: (e, v) => e.writeInt16(v),
  int32: (e, v) => e.writeInt32(v),
  varint: (e, v) => e.writeVarInt(v),
  uvarint: (e, v) => e.writeUVarInt(v),
  varlong: (e, v: bigint) => e.writeVarLong(v.toString()),
  bytes: (e, v) => e.writeBytes(Buffer.from(v)),
  varintBytes: (e, v) => e.writeVarIntBytes(Buffer.from(v)),
  buffer: (e, v) => e.writeBuffer(Buffer.from(v)),
  string: (e, v) => e.writeString(v),
  varintString: (e, v) => e.writeVarIntString(v),
  nested: (e, v: Uint8Array[]) =>
    e.writeVarIntArray(
      v.map((b) => new Encoder().writeVarIntBytes(Buffer.from(b))),
      'object',
    ),
};

/** Runs the writes on a fresh kafkajs Encoder, as record and request encoding do, and returns its bytes. */
function encode(ops: readonly Op[]): Buffer {
  const e = new Encoder();
  for (const o of ops) WRITE[o.op](e, o.value);
  return Buffer.from(e.buffer);
}

describe('kafkajs encoder without per-varint arrays', () => {
  const allocUnsafe = Buffer.allocUnsafe;
  after(() => {
    Buffer.allocUnsafe = allocUnsafe;
    restoreKafkajs();
  });

  test('buffers still grow zero-filled (no allocUnsafe growth patch: unwritten bytes are 0, never old heap)', () => {
    tuneKafkajs();
    const e = new Encoder();
    e.ensureAvailable(10_000);
    assert.ok(e.buf.length >= 10_000);
    assert.ok(e.buf.every((b: number) => b === 0));
  });

  test('writes exactly the bytes kafkajs writes, even over poisoned memory', () => {
    // every byte a patched encoder failed to write would show up as 0xa5 instead of kafkajs's 0
    Buffer.allocUnsafe = (size: number) => allocUnsafe(size).fill(0xa5);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        restoreKafkajs();
        const expected = encode(ops);
        tuneKafkajs();
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
      restoreKafkajs();
      const expected = [encode([{ op: 'varint', value: v }]), encode([{ op: 'uvarint', value: v >>> 0 }])];
      tuneKafkajs();
      assert.deepEqual(
        [encode([{ op: 'varint', value: v }]), encode([{ op: 'uvarint', value: v >>> 0 }])],
        expected,
        String(v),
      );
    }
  });
});

describe('kafkajs coordinator lookups reused for a short while', () => {
  const counting = () => {
    const calls: string[] = [];
    let fail = false;
    const lookup = async function (this: object, q: { groupId: string; coordinatorType?: number }) {
      calls.push(`${q.coordinatorType}/${q.groupId}`);
      if (fail) throw new Error('COORDINATOR_NOT_AVAILABLE');
      return { coordinator: { nodeId: 1 } };
    };
    return { calls, lookup, failNext: (f: boolean) => (fail = f) };
  };

  test('one request per client, id and coordinator type within the TTL; a new one after it', async () => {
    const { calls, lookup } = counting();
    let clock = 0;
    const reused = reuseCoordinatorLookups(lookup, 1000, () => clock);
    const clientA = {};
    const clientB = {};
    const tx = { groupId: 'phi-gate-events.raw-0', coordinatorType: 1 };
    await Promise.all([reused.call(clientA, tx), reused.call(clientA, tx)]);
    await reused.call(clientA, { groupId: 'phi-gate', coordinatorType: 0 });
    clock = 999;
    await reused.call(clientA, tx);
    assert.equal(calls.length, 2, 'concurrent and repeated lookups share one request');
    await reused.call(clientB, tx);
    assert.equal(calls.length, 3, 'another client asks for itself');
    clock = 1000;
    await reused.call(clientA, tx);
    assert.equal(calls.length, 4, 'after the TTL the coordinator is looked up again');
  });

  test('a failed lookup is not kept', async () => {
    const { calls, lookup, failNext } = counting();
    const reused = reuseCoordinatorLookups(lookup, 1000, () => 0);
    const client = {};
    failNext(true);
    await assert.rejects(reused.call(client, { groupId: 'g', coordinatorType: 0 }));
    failNext(false);
    await reused.call(client, { groupId: 'g', coordinatorType: 0 });
    assert.equal(calls.length, 2);
  });
});
