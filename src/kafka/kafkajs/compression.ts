/**
 * Record-batch compression, both ways.
 *
 * Reading: the producers of `events.raw` may compress with any codec Kafka knows — gzip, snappy,
 * lz4 or zstd — and kafkajs itself decodes only gzip. Without the others a compressed input batch
 * cannot even be fetched: the partition would stall on it. `registerCodecs()` gives kafkajs all four,
 * each bounded to `MAX_BATCH_BYTES` (64 MiB) inflated (kafkajs's own gzip codec has no bound: a 255 KB batch
 * inflated to 256 MiB): gzip and zstd from node:zlib (native, off the main thread), snappy (with or
 * without the Java client's xerial framing) and lz4 (the frame format Kafka uses since KIP-57) in
 * JavaScript.
 *
 * Writing: `PHIGATE_COMPRESSION` = none | gzip | zstd for the records phi-gate produces. Only the
 * native codecs are offered there (see `readOnly`). Whether compression pays depends on the link to
 * the brokers; see BENCHMARKS.md.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import lz4 from 'lz4js';
import snappy from 'snappyjs';
import type { OutputCompression } from '../../config/index.ts';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/** The kafkajs codec id for `PHIGATE_COMPRESSION`. */
export function compressionType(name: OutputCompression): number {
  switch (name) {
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'zstd':
      return CompressionTypes.ZSTD;
    default:
      return CompressionTypes.None;
  }
}

/** A batch inflating beyond this is refused: a decompression bomb must not take the process down. */
export const MAX_BATCH_BYTES = 64 * 1024 * 1024;

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

/** Java's snappy-java stream header: 0x82 "SNAPPY" 0, then version and compatible version (int32 each). */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** Snappy as Kafka clients write it: xerial-framed chunks (the Java client) or one raw block (others). */
export function snappyDecompress(buffer: Buffer): Buffer {
  if (!buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return snappyBlock(buffer);
  const chunks: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < buffer.length) {
    if (pos + 4 > buffer.length) throw new Error('snappy: truncated xerial chunk header');
    const size = buffer.readInt32BE(pos);
    pos += 4;
    if (size < 0 || pos + size > buffer.length) throw new Error('snappy: truncated xerial chunk');
    const chunk = snappyBlock(buffer.subarray(pos, pos + size));
    total += chunk.length;
    if (total > MAX_BATCH_BYTES) throw new Error('snappy: batch inflates beyond the limit');
    chunks.push(chunk);
    pos += size;
  }
  return Buffer.concat(chunks, total);
}

function snappyBlock(block: Buffer): Buffer {
  const out = snappy.uncompress(block, MAX_BATCH_BYTES);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function lz4Decompress(buffer: Buffer): Buffer {
  const bound = lz4.decompressBound(buffer);
  if (bound > MAX_BATCH_BYTES) throw new Error('lz4: batch inflates beyond the limit');
  const out = lz4.decompress(buffer, bound);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

interface Encoder {
  readonly buffer: Buffer;
}

/**
 * Snappy and lz4 are read, never written: their JavaScript compressors would run on the policy
 * thread, and lz4js writes frames with dependent blocks, which brokers refuse.
 */
function readOnly(codec: string): () => Promise<Buffer> {
  return () => Promise.reject(new Error(`phi-gate reads ${codec} batches but does not write them`));
}

let registered = false;

/** Makes every Kafka codec available to kafkajs (a process-wide table). Idempotent. */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: (encoder: Encoder) => gzip(encoder.buffer),
    decompress: (buffer: Buffer) => gunzip(buffer, { maxOutputLength: MAX_BATCH_BYTES }),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder: Encoder) => zstdCompress(encoder.buffer),
    decompress: (buffer: Buffer) => zstdDecompress(buffer, { maxOutputLength: MAX_BATCH_BYTES }),
  });
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: readOnly('snappy'),
    decompress: async (buffer: Buffer) => snappyDecompress(buffer),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: readOnly('lz4'),
    decompress: async (buffer: Buffer) => lz4Decompress(buffer),
  });
}
