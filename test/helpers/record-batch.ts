/**
 * Kafka record batches (magic v2) byte by byte, and a Produce request that writes such bytes to the
 * broker exactly as they are — no client library in between re-encoding keys, header names or the
 * compressed section. For tests that need records a client would not write: header names that are not
 * UTF-8, null header values, a compressed section that does not decompress, a decompression bomb.
 *
 * The broker still validates what it receives (the CRC, the record framing, and it decompresses a
 * compressed batch to iterate its records), so a batch that is refused comes back as a Kafka error
 * code, which `produceRaw` returns instead of throwing.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { BROKERS } from './stack.ts';

/** The compression codec in the batch attributes (bits 0–2). */
export const CODEC = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof CODEC;

export interface RawHeader {
  readonly name: Buffer;
  readonly value: Buffer | null;
}

export interface RawRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: readonly RawHeader[];
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), the checksum of a v2 record batch. */
export function crc32c(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zig-zag varint (Kafka's record fields); `bigint` for values beyond 32 bits. */
export function varint(n: number | bigint): Buffer {
  let z = BigInt(n);
  z = z >= 0n ? z << 1n : (-z << 1n) - 1n;
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number((z & 0x7fn) | 0x80n));
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

function sized(bytes: Buffer | null): Buffer[] {
  return bytes === null ? [varint(-1)] : [varint(bytes.length), bytes];
}

/** One record of a v2 batch; `index` is its offset (and timestamp) delta. */
export function encodeRecord(record: RawRecord, index: number): Buffer {
  const headers = record.headers ?? [];
  const body = Buffer.concat([
    Buffer.from([0]), // attributes: unused
    varint(0), // timestamp delta
    varint(index), // offset delta
    ...sized(record.key),
    ...sized(record.value),
    varint(headers.length),
    ...headers.flatMap((h) => [...sized(h.name), ...sized(h.value)]),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

/** The encoded records of a batch, before compression. */
export function encodeRecords(records: readonly RawRecord[]): Buffer {
  return Buffer.concat(records.map((r, i) => encodeRecord(r, i)));
}

const BATCH_HEADER_BYTES = 61;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const TIMESTAMPS_OFFSET = 27;

/**
 * A whole v2 record batch at base offset 0: `section` is what follows the header — the encoded
 * records, or their compressed form (or anything else) under `codec`. `count` records are declared.
 */
export function encodeBatch(codec: CodecName, count: number, section: Buffer, timestampMs = 0): Buffer {
  const header = Buffer.alloc(BATCH_HEADER_BYTES);
  header.writeBigInt64BE(0n, 0); // base offset (the broker assigns the real one)
  header.writeInt32BE(BATCH_HEADER_BYTES - 12 + section.length, 8); // length after this field
  header.writeInt32BE(-1, 12); // partition leader epoch
  header.writeInt8(2, 16); // magic
  header.writeInt16BE(CODEC[codec], ATTRIBUTES_OFFSET);
  header.writeInt32BE(Math.max(0, count - 1), 23); // last offset delta
  header.writeBigInt64BE(BigInt(timestampMs), TIMESTAMPS_OFFSET); // base timestamp
  header.writeBigInt64BE(BigInt(timestampMs), TIMESTAMPS_OFFSET + 8); // max timestamp
  header.writeBigInt64BE(-1n, 43); // producer id: none (neither idempotent nor transactional)
  header.writeInt16BE(-1, 51); // producer epoch
  header.writeInt32BE(-1, 53); // base sequence
  header.writeInt32BE(count, 57);
  const batch = Buffer.concat([header, section]);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** The same batch stamped with another timestamp (base and max), its CRC computed again. */
export function restamp(batch: Buffer, timestampMs: number): Buffer {
  const out = Buffer.from(batch);
  out.writeBigInt64BE(BigInt(timestampMs), TIMESTAMPS_OFFSET);
  out.writeBigInt64BE(BigInt(timestampMs), TIMESTAMPS_OFFSET + 8);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}

function kafkaString(s: string): Buffer {
  const bytes = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function int(n: number, size: 2 | 4): Buffer {
  const b = Buffer.alloc(size);
  if (size === 2) b.writeInt16BE(n);
  else b.writeInt32BE(n);
  return b;
}

/** Reads one size-prefixed response from the socket. */
async function readResponse(socket: Socket): Promise<Buffer> {
  let data = Buffer.alloc(0);
  for (;;) {
    if (data.length >= 4 && data.length >= 4 + data.readInt32BE(0))
      return data.subarray(4, 4 + data.readInt32BE(0));
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    data = Buffer.concat([data, chunk]);
  }
}

/**
 * Writes one record batch to a partition with a Produce request (v7, acks=all) on its own
 * connection to the first broker, which must lead the partition (the local single-node stack does).
 * Resolves the partition's Kafka error code (0 when the broker appended the batch) and the offset
 * of the batch's first record.
 */
export async function produceRaw(
  topic: string,
  partition: number,
  batch: Buffer,
): Promise<{ error: number; baseOffset: bigint }> {
  const [host, port] = (BROKERS[0] ?? '127.0.0.1:9092').split(':');
  const socket = connect({ host: host ?? '127.0.0.1', port: Number(port) });
  await once(socket, 'connect');
  try {
    const request = Buffer.concat([
      int(0, 2), // api key: Produce
      int(7, 2), // api version 7: v2 batches, zstd allowed (v7+), no flexible encoding
      int(1, 4), // correlation id
      kafkaString('phi-gate-test-raw'),
      int(-1, 2), // transactional id: null
      int(-1, 2), // acks: all
      int(30_000, 4), // timeout
      int(1, 4), // one topic
      kafkaString(topic),
      int(1, 4), // one partition
      int(partition, 4),
      int(batch.length, 4),
      batch,
    ]);
    socket.write(Buffer.concat([int(request.length, 4), request]));
    const response = await readResponse(socket);
    // correlation id (4), topics (4), name (2 + n), partitions (4), index (4), then the error code
    const at = 10 + response.readInt16BE(8) + 4 + 4;
    return { error: response.readInt16BE(at), baseOffset: response.readBigInt64BE(at + 2) };
  } finally {
    socket.destroy();
  }
}
