/**
 * The byte-level half of the compiled Avro codecs (codec.ts): a read cursor and a write cursor over
 * one Buffer, with Avro's primitive encodings (zig-zag varints, length-prefixed UTF-8, little-endian
 * IEEE 754). The generated code calls these; everything here is plain, typed TypeScript.
 *
 * Writing follows avsc's contract: a write past the end of the buffer only advances `pos`, so the
 * caller learns how many bytes were missing and retries with a larger buffer. Reading throws as
 * soon as a length points past the end, and the codec checks the final position.
 */
import { PhiGateError } from '../errors.ts';

/** Node's UTF-8 fast paths behind Buffer#toString / Buffer#write, without their argument parsing. */
interface Utf8Fast {
  utf8Slice(start: number, end: number): string;
  utf8Write(value: string, offset: number, length?: number): number;
}
const fast = Buffer.prototype as unknown as Partial<Utf8Fast>;
const utf8Slice: Utf8Fast['utf8Slice'] =
  typeof fast.utf8Slice === 'function'
    ? fast.utf8Slice
    : function (this: Buffer, start, end) {
        return this.toString('utf8', start, end);
      };
const utf8Write: Utf8Fast['utf8Write'] =
  typeof fast.utf8Write === 'function'
    ? fast.utf8Write
    : function (this: Buffer, value, offset, length) {
        return this.write(value, offset, length ?? this.length - offset, 'utf8');
      };

/** avsc's bound for longs: beyond it a JavaScript number may not hold the exact value. */
const MAX_SAFE_LONG = 9007199254740990;
/** Most array items of zero bytes (null, an empty record) one decoded value may hold. */
export const ZERO_BYTE_ITEMS_PER_VALUE = 1_000_000;
const TWO_POW_52 = 2 ** 52;
const TWO_POW_53 = 2 ** 53;
/** A UTF-16 code unit never takes more than 3 UTF-8 bytes. */
const MAX_UTF8_PER_UNIT = 3;

export function decodeError(message: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_DECODE', message);
}

/** Bytes of the zig-zag varint of a non-negative `n` (`n` ≤ 2^31). */
function varintSize(zigzag: number): number {
  return zigzag < 0x80 ? 1 : zigzag < 0x4000 ? 2 : zigzag < 0x200000 ? 3 : zigzag < 0x10000000 ? 4 : 5;
}

export class ReadCursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  #freeItems = ZERO_BYTE_ITEMS_PER_VALUE;

  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
    this.#freeItems = ZERO_BYTE_ITEMS_PER_VALUE;
  }

  /** A zig-zag varint (Avro int and long); beyond ±2^53 − 2 it throws, as avsc does. */
  long(): number {
    const buf = this.buf;
    const start = this.pos;
    let b = buf[this.pos++] as number;
    if (b < 0x80) return (b >> 1) ^ -(b & 1);
    let n = b & 0x7f;
    let shift = 7;
    do {
      b = buf[this.pos++] as number;
      if (b === undefined) throw decodeError('truncated varint');
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 28);
    if (!(b & 0x80)) return (n >>> 1) ^ -(n & 1);
    // past 28 bits: float arithmetic (bit operations would overflow)
    let f = n >>> 0;
    let scale = 268435456; // 2^28
    do {
      b = buf[this.pos++] as number;
      if (b === undefined) throw decodeError('truncated varint');
      f += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    if (f >= TWO_POW_53) return this.#bigLong(start);
    return (f % 2 ? -(f + 1) : f) / 2;
  }

  /** A varint whose zig-zag form is past 2^53 (doubles lose its last bits): exact in BigInt. */
  #bigLong(start: number): number {
    let z = 0n;
    let shift = 0n;
    for (let i = start; i < this.pos; i++) {
      z |= BigInt((this.buf[i] as number) & 0x7f) << shift;
      shift += 7n;
    }
    const value = Number(z & 1n ? -((z + 1n) >> 1n) : z >> 1n);
    if (!(value >= -MAX_SAFE_LONG && value <= MAX_SAFE_LONG)) throw decodeError('long loses precision');
    return value;
  }

  /** An Avro int: a varint that must fit 32 bits (avsc would hand a larger number on). */
  int(): number {
    const n = this.long();
    if (n !== (n | 0)) throw decodeError('int out of range');
    return n;
  }

  /** A byte length, then that many bytes must follow. */
  #length(): number {
    const n = this.long();
    if (n < 0) throw decodeError('negative length');
    if (this.pos + n > this.buf.length) throw decodeError('length past the end of the value');
    return n;
  }

  string(): string {
    const n = this.#length();
    const start = this.pos;
    this.pos += n;
    return utf8Slice.call(this.buf, start, this.pos);
  }

  /** Bytes and fixed come back as their own copy, never a view of the record's buffer. */
  bytes(): Buffer {
    return this.fixed(this.#length());
  }

  fixed(size: number): Buffer {
    if (this.pos + size > this.buf.length) throw decodeError('fixed past the end of the value');
    const out = Buffer.allocUnsafe(size);
    this.buf.copy(out, 0, this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  boolean(): boolean {
    const b = this.buf[this.pos++];
    if (b === 0) return false;
    if (b === 1) return true;
    throw decodeError(b === undefined ? 'truncated boolean' : 'boolean byte is neither 0 nor 1');
  }

  float(): number {
    if (this.pos + 4 > this.buf.length) throw decodeError('truncated float');
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw decodeError('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * An array or map block count (a negative count is followed by the block's byte size). A count
   * larger than the bytes left cannot be honest when each item takes at least one byte: it is
   * refused before any item is allocated. Items that take no bytes (nulls, empty records) share one
   * budget per value.
   */
  blockCount(minItemBytes: number): number {
    let n = this.long();
    if (n < 0) {
      n = -n;
      this.long();
    }
    if (minItemBytes === 0) {
      this.#freeItems -= n;
      if (this.#freeItems < 0) throw decodeError('more zero-byte items than one value may hold');
    } else if (n * minItemBytes > this.buf.length - this.pos) {
      throw decodeError('block count larger than the value can hold');
    }
    return n;
  }

  /** After the value: every byte consumed, none missing. */
  finish(): void {
    if (this.pos > this.buf.length) throw decodeError('truncated value');
    if (this.pos < this.buf.length) throw decodeError('trailing bytes after the value');
  }
}

export class WriteCursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  reset(buf: Buffer, pos: number): void {
    this.buf = buf;
    this.pos = pos;
  }

  /** A zig-zag varint of a safe integer. */
  long(n: number): void {
    const buf = this.buf;
    if (n >= -1073741824 && n < 1073741824) {
      let m = n >= 0 ? n << 1 : (~n << 1) | 1;
      while (m > 0x7f) {
        buf[this.pos++] = (m & 0x7f) | 0x80;
        m >>>= 7;
      }
      buf[this.pos++] = m;
      return;
    }
    if (n < -TWO_POW_52) {
      // 2|n| − 1 is past 2^53: exact only in BigInt (rare: a long below −2^52)
      let z = (BigInt(-n) << 1n) - 1n;
      while (z >= 0x80n) {
        buf[this.pos++] = Number(z & 0x7fn) | 0x80;
        z >>= 7n;
      }
      buf[this.pos++] = Number(z);
      return;
    }
    let f = n >= 0 ? n * 2 : -n * 2 - 1; // exact: below 2^54 and even, or below 2^53
    while (f >= 0x80) {
      buf[this.pos++] = (f % 0x80) | 0x80;
      f = Math.floor(f / 0x80);
    }
    buf[this.pos++] = f;
  }

  /** A union index or any small non-negative count (< 64): one byte. */
  small(n: number): void {
    this.buf[this.pos++] = n << 1;
  }

  /**
   * Length-prefixed UTF-8. The prefix size is guessed from the string's length (exact for ASCII);
   * when the encoded length needs another prefix size, the bytes move once.
   */
  string(s: string): void {
    const units = s.length;
    const guess = varintSize(units * 2);
    const start = this.pos + guess;
    if (start + units * MAX_UTF8_PER_UNIT > this.buf.length) {
      // near or past the end: measure first, write only what fits
      const bytes = Buffer.byteLength(s, 'utf8');
      this.long(bytes);
      if (this.pos + bytes <= this.buf.length) utf8Write.call(this.buf, s, this.pos, bytes);
      this.pos += bytes;
      return;
    }
    const bytes = units === 0 ? 0 : utf8Write.call(this.buf, s, start);
    if (bytes !== units) {
      const size = varintSize(bytes * 2);
      if (size !== guess) this.buf.copyWithin(this.pos + size, start, start + bytes);
    }
    this.long(bytes);
    this.pos += bytes;
  }

  bytes(b: Buffer): void {
    this.long(b.length);
    this.fixed(b);
  }

  fixed(b: Buffer): void {
    if (this.pos + b.length <= this.buf.length) b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  boolean(v: boolean): void {
    this.buf[this.pos++] = v ? 1 : 0;
  }

  float(v: number): void {
    if (this.pos + 4 <= this.buf.length) this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  double(v: number): void {
    if (this.pos + 8 <= this.buf.length) this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
}
