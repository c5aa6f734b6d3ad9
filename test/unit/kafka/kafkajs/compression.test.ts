import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import lz4 from 'lz4js';
import snappy from 'snappyjs';
import {
  compressionType,
  lz4Decompress,
  MAX_BATCH_BYTES,
  registerCodecs,
  snappyDecompress,
  UNREADABLE_HEADER,
  unreadableOf,
} from '../../../../src/kafka/kafkajs/compression.ts';

const { CompressionCodecs, CompressionTypes } = kafkajs;

// compressible and incompressible parts, like a batch of records with repeated field names and ids
const batch = Buffer.concat([
  Buffer.from('{"event":"Appointment Booked","userId":"user-40213"}'.repeat(200)),
  randomBytes(5000),
]);

type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const codec = (type: number): Codec =>
  (CompressionCodecs as unknown as Record<number, () => Codec>)[type]?.() as Codec;

/** snappy-java's stream format (what the Java client writes): magic, versions, then sized chunks. */
function xerial(chunks: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  const parts = [header];
  for (const c of chunks) {
    const block = Buffer.from(snappy.compress(c));
    const size = Buffer.alloc(4);
    size.writeInt32BE(block.length);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

describe('record-batch codecs', () => {
  registerCodecs();

  for (const [name, type] of [
    ['gzip', CompressionTypes.GZIP],
    ['zstd', CompressionTypes.ZSTD],
  ] as const) {
    test(`${name}: what kafkajs compresses comes back byte for byte, and smaller`, async () => {
      const c = codec(type);
      const compressed = await c.compress({ buffer: batch });
      assert.ok(compressed.length < batch.length * 0.6, `${compressed.length} of ${batch.length}`);
      assert.deepEqual(await c.decompress(compressed), batch);
    });
  }

  test('snappy and lz4 are read only: writing them is refused, not attempted', async () => {
    await assert.rejects(codec(CompressionTypes.Snappy).compress({ buffer: batch }), /does not write/);
    await assert.rejects(codec(CompressionTypes.LZ4).compress({ buffer: batch }), /does not write/);
  });

  test('snappy: the Java client’s xerial framing (several chunks) and a raw block both decode', () => {
    const a = batch.subarray(0, 4000);
    const b = batch.subarray(4000);
    assert.deepEqual(snappyDecompress(xerial([a, b])), batch);
    assert.deepEqual(snappyDecompress(Buffer.from(snappy.compress(batch))), batch);
  });

  test('corrupt or truncated input is an error, never a short or garbled batch', async () => {
    const framed = xerial([batch]);
    assert.throws(() => snappyDecompress(framed.subarray(0, framed.length - 10)), /truncated/);
    assert.throws(() => snappyDecompress(Buffer.concat([framed.subarray(0, 16), Buffer.from([0, 0])])));
    assert.throws(() => lz4Decompress(Buffer.from('not an lz4 frame')), /magic/);
    await assert.rejects(codec(CompressionTypes.ZSTD).decompress(Buffer.from('not zstd at all')));
  });

  test('decompression bombs: gzip and zstd batches inflating past the bound are refused', async () => {
    // ~100 KB that inflate to 1 MiB more than the bound: what a hostile producer can send
    const zeros = Buffer.alloc(MAX_BATCH_BYTES + 1024 * 1024);
    for (const [type, bomb] of [
      [CompressionTypes.GZIP, zlib.gzipSync(zeros, { level: 9 })],
      [CompressionTypes.ZSTD, zlib.zstdCompressSync(zeros)],
    ] as const) {
      assert.ok(bomb.length < 1024 * 1024, 'the bomb itself is small');
      await assert.rejects(
        codec(type).decompress(bomb),
        /maxOutputLength|Cannot create a Buffer larger|exceed/i,
      );
    }
  });

  test('lz4: frames decode (batches of the Java client: test/integration/pipeline/compression.test.ts)', async () => {
    assert.deepEqual(lz4Decompress(Buffer.from(lz4.compress(batch))), batch);
    assert.deepEqual(await codec(CompressionTypes.LZ4).decompress(Buffer.from(lz4.compress(batch))), batch);
  });

  test('PHIGATE_COMPRESSION names map onto kafkajs codec ids', () => {
    assert.equal(compressionType('none'), CompressionTypes.None);
    assert.equal(compressionType('gzip'), CompressionTypes.GZIP);
    assert.equal(compressionType('zstd'), CompressionTypes.ZSTD);
  });

  test('a batch that cannot be inflated becomes one stand-in per declared record, each read as unreadable', async () => {
    // a record batch v2 as kafkajs hands it over: the codec sees a view right after the 61-byte header
    const header = Buffer.alloc(61);
    header[16] = 2; // magic
    header.writeInt16BE(CompressionTypes.GZIP, 21); // attributes: the codec
    header.writeInt32BE(2, 23); // last offset delta: offsets 0..2
    header.writeInt32BE(3, 57); // three records
    const response = Buffer.concat([header, Buffer.from('not gzip: a corrupt batch')]);
    const section = await codec(CompressionTypes.GZIP).decompress(response.subarray(61));

    const require = createRequire(import.meta.url);
    const Decoder = require('kafkajs/src/protocol/decoder');
    const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
    const decoder = new Decoder(section);
    const records = [0, 1, 2].map(() =>
      decodeRecord(new Decoder(decoder.readVarIntBytes()), { firstOffset: '100', firstTimestamp: '0' }),
    );
    assert.deepEqual(
      records.map((r: { offset: string; key: unknown; value: unknown }) => [r.offset, r.key, r.value]),
      [
        ['100', null, null],
        ['101', null, null],
        ['102', null, null],
      ],
    );
    const error = unreadableOf(records[0]?.headers);
    assert.equal(error?.code, 'PHIGATE_ERR_BAD_BATCH');
    assert.match(error?.message ?? '', /gzip: Z_DATA_ERROR/);
    assert.equal(decoder.canReadBytes(1), false, 'exactly the declared records');
  });

  test('a producer cannot forge a stand-in: the header must carry this process’s nonce', () => {
    assert.equal(
      unreadableOf({ [UNREADABLE_HEADER]: Buffer.from('0123456789abcdef gzip: forged') }),
      undefined,
    );
    assert.equal(unreadableOf({ [UNREADABLE_HEADER]: 'a string' }), undefined);
    assert.equal(unreadableOf(undefined), undefined);
  });
});
