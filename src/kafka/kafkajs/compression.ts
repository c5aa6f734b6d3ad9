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
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import lz4 from 'lz4js';
import xxh32 from 'lz4js/xxh32.js';
import snappy from 'snappyjs';
import type { OutputCompression } from '../../config/index.ts';
import { PhiGateError } from '../../errors.ts';

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

/** LZ4 frame: magic (4 bytes), then FLG, whose bits 3 and 2 say a content size and a content checksum follow. */
const LZ4_FLG_AT = 4;
const LZ4_CONTENT_SIZE = 0x08;
const LZ4_CONTENT_CHECKSUM = 0x04;

export function lz4Decompress(buffer: Buffer): Buffer {
  const bound = lz4.decompressBound(buffer);
  if (bound > MAX_BATCH_BYTES) throw new Error('lz4: batch inflates beyond the limit');
  const flg = buffer[LZ4_FLG_AT] ?? 0;
  // the bound is the declared content size when there is one: one byte more shows a frame that
  // holds more than it declares (lz4js stops writing at the end of its buffer, silently)
  const inflated = lz4.decompress(buffer, flg & LZ4_CONTENT_SIZE ? bound + 1 : bound);
  const out = Buffer.from(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  // lz4js checks neither: a frame that declares its size or checksum must match it
  if (flg & LZ4_CONTENT_SIZE && Number(buffer.readBigUInt64LE(LZ4_FLG_AT + 2)) !== out.length)
    throw new Error('lz4: content size mismatch');
  if (flg & LZ4_CONTENT_CHECKSUM && buffer.length >= 4) {
    const expected = buffer.readUInt32LE(buffer.length - 4);
    if (xxh32.hash(0, out, 0, out.length) >>> 0 !== expected)
      throw new Error('lz4: content checksum mismatch');
  }
  return out;
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

/*
 * Unreadable batches. A codec that throws inside kafkajs's fetch crashes its consumer (a poison
 * batch: the instance restarts, meets it again, a crash loop). Instead, a batch that does not inflate
 * within the limit is replaced by one stand-in record per record it declares, at the same offsets,
 * each carrying UNREADABLE_HEADER: the engine turns them into unreadable input records, which the
 * pipeline dead-letters (PHIGATE_ERR_BAD_BATCH) and commits past. The header's value starts with a
 * nonce of this process, so a producer cannot forge a stand-in.
 */
export const UNREADABLE_HEADER = 'phigate.unreadable';
const NONCE = randomBytes(16).toString('hex');

/** Record batch v2: bytes before the records (the count is the last field), and where fields sit. */
const BATCH_HEADER_BYTES = 61;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const COUNT_AT = 57;
const CODEC_MASK = 0x07;

/**
 * The records count of the batch whose compressed records `compressed` is, or undefined when that
 * cannot be trusted. kafkajs (2.2.4, its last release) hands a codec a view of the fetch response
 * right after the batch header; the header is read from there and checked (magic byte, codec,
 * count within the declared offsets) before it is believed.
 */
function declaredCount(compressed: Buffer, codec: number): number | undefined {
  if (compressed.byteOffset < BATCH_HEADER_BYTES) return undefined;
  const header = Buffer.from(
    compressed.buffer,
    compressed.byteOffset - BATCH_HEADER_BYTES,
    BATCH_HEADER_BYTES,
  );
  const count = header.readInt32BE(COUNT_AT);
  const lastOffsetDelta = header.readInt32BE(LAST_OFFSET_DELTA_AT);
  const ok =
    header[MAGIC_AT] === 2 &&
    (header.readInt16BE(ATTRIBUTES_AT) & CODEC_MASK) === codec &&
    count >= 1 &&
    count <= lastOffsetDelta + 1;
  return ok ? count : undefined;
}

function zigzagVarint(n: number): number[] {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** `count` stand-in records (offset deltas 0 … count-1, no key, no value, the unreadable header). */
export function standIns(count: number, reason: string): Buffer {
  const name = Buffer.from(UNREADABLE_HEADER);
  const value = Buffer.from(`${NONCE} ${reason}`);
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const body = Buffer.from([
      0, // attributes
      ...zigzagVarint(0), // timestamp delta
      ...zigzagVarint(i), // offset delta
      ...zigzagVarint(-1), // no key
      ...zigzagVarint(-1), // no value
      ...zigzagVarint(1), // one header
      ...zigzagVarint(name.length),
      ...name,
      ...zigzagVarint(value.length),
      ...value,
    ]);
    records.push(Buffer.from(zigzagVarint(body.length)), body);
  }
  return Buffer.concat(records);
}

/** The error of a stand-in record (see above); undefined for any other record. */
export function unreadableOf(
  headers: Readonly<Record<string, unknown>> | undefined,
): PhiGateError | undefined {
  const v = headers?.[UNREADABLE_HEADER];
  if (!Buffer.isBuffer(v)) return undefined;
  const text = v.toString();
  if (!text.startsWith(`${NONCE} `)) return undefined;
  return new PhiGateError(
    'PHIGATE_ERR_BAD_BATCH',
    `the record batch holding this offset cannot be read (${text.slice(NONCE.length + 1)}); its bytes stay in the input topic`,
  );
}

/** A codec's decompress that answers a batch it cannot inflate with stand-ins, when it can count them. */
function guarded(codec: number, name: string, decompress: (b: Buffer) => Promise<Buffer>) {
  return async (buffer: Buffer): Promise<Buffer> => {
    try {
      return await decompress(buffer);
    } catch (err) {
      const count = declaredCount(buffer, codec);
      if (count === undefined) throw err;
      // the codec's own words (zlib's code, or ours): they never quote the batch
      const why = (err as { code?: string }).code ?? (err as Error).message;
      return standIns(count, `${name}: ${why}`);
    }
  };
}

let registered = false;

/** Makes every Kafka codec available to kafkajs (a process-wide table). Idempotent. */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const { GZIP, ZSTD, Snappy, LZ4 } = CompressionTypes;
  CompressionCodecs[GZIP] = () => ({
    compress: (encoder: Encoder) => gzip(encoder.buffer),
    decompress: guarded(GZIP, 'gzip', (b) => gunzip(b, { maxOutputLength: MAX_BATCH_BYTES })),
  });
  CompressionCodecs[ZSTD] = () => ({
    compress: (encoder: Encoder) => zstdCompress(encoder.buffer),
    decompress: guarded(ZSTD, 'zstd', (b) => zstdDecompress(b, { maxOutputLength: MAX_BATCH_BYTES })),
  });
  CompressionCodecs[Snappy] = () => ({
    compress: readOnly('snappy'),
    decompress: guarded(Snappy, 'snappy', async (b) => snappyDecompress(b)),
  });
  CompressionCodecs[LZ4] = () => ({
    compress: readOnly('lz4'),
    decompress: guarded(LZ4, 'lz4', async (b) => lz4Decompress(b)),
  });
}
