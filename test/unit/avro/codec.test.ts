import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import avro from 'avsc';
import fc from 'fast-check';
import { codecFor } from '../../../src/avro/codec.ts';
import { ZERO_BYTE_ITEMS_PER_VALUE } from '../../../src/avro/cursor.ts';
import { isPhiGateError } from '../../../src/errors.ts';
import { fromNaturalJson, packageRoot } from '../../../src/policy/index.ts';

type Json = unknown;

/** Random Avro schemas: every type, nested, unions both unwrapped and (ambiguous) wrapped, defaults. */
const { schema: schemaArb } = fc.letrec<{ schema: Json; branch: Json; union: Json }>((tie) => ({
  schema: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('branch'), tie('union')),
  branch: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'),
    fc.array(fc.tuple(tie('schema'), fc.boolean()), { maxLength: 4 }).map((fields) => ({
      type: 'record',
      name: '?',
      fields: fields.map(([type, withDefault], i) => ({
        name: `f${i}`,
        type,
        ...(withDefault ? { default: '?default' } : {}),
      })),
    })),
    fc
      .uniqueArray(fc.constantFrom('A', 'B', 'C', 'D'), { minLength: 1 })
      .map((symbols) => ({ type: 'enum', name: '?', symbols })),
    fc.integer({ min: 0, max: 6 }).map((size) => ({ type: 'fixed', name: '?', size })),
    tie('schema').map((items) => ({ type: 'array', items })),
    tie('schema').map((values) => ({ type: 'map', values })),
  ),
  union: fc.array(tie('branch'), { minLength: 1, maxLength: 4 }),
}));

/** Names every named type uniquely and turns '?default' into a default avsc accepts, or none. */
function finish(schema: Json): Json {
  let n = 0;
  const defaultFor = (type: Json): Json => {
    const first = Array.isArray(type) ? type[0] : type;
    const byType: Record<string, Json> = {
      null: null,
      boolean: true,
      int: 7,
      long: -3,
      double: 0.5,
      string: 'x',
    };
    return typeof first === 'string' ? byType[first] : undefined;
  };
  const walk = (s: Json): Json => {
    if (Array.isArray(s)) return s.map(walk);
    if (typeof s !== 'object' || s === null) return s;
    const o = { ...(s as Record<string, Json>) };
    if (o.name === '?') o.name = `T${n++}`;
    if (o.items !== undefined) o.items = walk(o.items);
    if (o.values !== undefined) o.values = walk(o.values);
    if (Array.isArray(o.fields)) {
      o.fields = (o.fields as Record<string, Json>[]).map((f) => {
        const field: Record<string, Json> = { ...f, type: walk(f.type) };
        if (field.default === '?default') {
          const d = defaultFor(field.type);
          if (d === undefined) delete field.default;
          else field.default = d;
        }
        return field;
      });
    }
    return o;
  };
  return walk(schema);
}

/** Schemas avsc accepts (it refuses duplicate branches and the like), compiled as phi-gate does. */
const typeArb = schemaArb
  .map((s) => {
    try {
      return avro.Type.forSchema(finish(s) as avro.Schema, { wrapUnions: 'auto' });
    } catch {
      return null;
    }
  })
  .filter((t): t is avro.Type => t !== null);

function encode(type: avro.Type, value: unknown, room = 64): Buffer {
  const codec = codecFor(type);
  let buf = Buffer.alloc(room, 0xee);
  let end = codec.encode(value, buf, 3);
  if (end < 0) {
    buf = Buffer.alloc(buf.length - end, 0xee);
    end = codec.encode(value, buf, 3);
  }
  return buf.subarray(3, end);
}

/** avsc's random values sometimes carry defaulted fields as undefined-able: drop a few. */
function dropDefaulted(type: avro.Type, value: unknown, rng: () => number): void {
  const t = type as unknown as {
    typeName: string;
    fields?: { name: string; type: avro.Type; defaultValue(): unknown }[];
    itemsType?: avro.Type;
  };
  if (typeof value !== 'object' || value === null) return;
  if (t.typeName === 'record' && t.fields) {
    for (const f of t.fields) {
      const v = (value as Record<string, unknown>)[f.name];
      if (f.defaultValue() !== undefined && rng() < 0.5) delete (value as Record<string, unknown>)[f.name];
      else dropDefaulted(f.type, v, rng);
    }
  }
}

describe('compiled Avro codec', () => {
  test('writes the same bytes as avsc and reads back what avsc reads, for random schemas and values', () => {
    fc.assert(
      fc.property(typeArb, fc.integer({ min: 1, max: 2 ** 31 }), (type, seed) => {
        let state = seed;
        const rng = () => {
          state = (state * 1103515245 + 12345) % 2 ** 31;
          return state / 2 ** 31;
        };
        for (let i = 0; i < 5; i++) {
          const value = type.random();
          dropDefaulted(type, value, rng);
          const expected = type.toBuffer(value);
          // a small buffer first: the codec must report what is missing, then write it whole
          assert.deepEqual(encode(type, value, 8), expected);
          const decoded = codecFor(type).decode(expected);
          assert.ok(type.isValid(decoded), 'decoded value is a valid avsc value');
          assert.deepEqual(type.toBuffer(decoded), expected);
          assert.deepEqual(type.toBuffer(type.fromBuffer(expected)), expected);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('any bytes: a decoded value is the one avsc decodes, otherwise PHIGATE_ERR_DECODE', () => {
    fc.assert(
      fc.property(typeArb, fc.uint8Array({ maxLength: 48 }), (type, bytes) => {
        const body = Buffer.from(bytes);
        let ours: unknown;
        try {
          ours = codecFor(type).decode(body);
        } catch (err) {
          assert.ok(isPhiGateError(err) && err.code === 'PHIGATE_ERR_DECODE', String(err));
          return;
        }
        const theirs = type.fromBuffer(body);
        assert.deepEqual(type.toBuffer(ours), type.toBuffer(theirs));
      }),
      { numRuns: 2000 },
    );
  });

  test('the segment event schema: the example events byte for byte', () => {
    const root = packageRoot();
    const schema = JSON.parse(readFileSync(join(root, 'schemas', 'segment-event.avsc'), 'utf8'));
    const type = avro.Type.forSchema(schema, { wrapUnions: 'auto' });
    const dir = join(root, 'deploy', 'examples', 'events');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const value = fromNaturalJson(type, JSON.parse(readFileSync(join(dir, f), 'utf8')), schema);
      const bytes = type.toBuffer(value);
      assert.deepEqual(encode(type, value), bytes, f);
      assert.deepEqual(type.toBuffer(codecFor(type).decode(bytes)), bytes, f);
    }
  });

  test('strings in any script are UTF-8 with the right length prefix, however long', () => {
    const type = avro.Type.forSchema({ type: 'array', items: 'string' });
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 90 }),
            fc.string({ maxLength: 300 }),
            // 1-, 2-, 3- and 4-byte characters: the length prefix outgrows its ASCII guess
            fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀'), maxLength: 120 }),
          ),
        ),
        (strings) => {
          const bytes = encode(type, strings, 16);
          assert.deepEqual(bytes, type.toBuffer(strings));
          assert.deepEqual(codecFor(type).decode(bytes), strings);
        },
      ),
    );
    for (const s of ['é'.repeat(40), '€'.repeat(22), '😀'.repeat(16), '€'.repeat(2800)]) {
      assert.deepEqual(encode(type, [s]), type.toBuffer([s]), `${s.length} units`);
    }
  });

  test('an unpaired surrogate is written as U+FFFD, as Buffer.from does (valid UTF-8)', () => {
    const type = avro.Type.forSchema('string');
    const bytes = encode(type, 'a\ud800b');
    assert.deepEqual(bytes.subarray(1), Buffer.from('a\ud800b', 'utf8'));
    assert.equal(codecFor(type).decode(bytes), 'a\ufffdb');
  });

  test('longs: every magnitude, both signs, as avsc writes them; beyond 2^53 - 2 refused', () => {
    const type = avro.Type.forSchema('long');
    const reference = (n: number): Buffer => {
      let z = n >= 0 ? BigInt(n) << 1n : (-BigInt(n) << 1n) - 1n;
      const out: number[] = [];
      while (z >= 0x80n) {
        out.push(Number(z & 0x7fn) | 0x80);
        z >>= 7n;
      }
      out.push(Number(z));
      return Buffer.from(out);
    };
    fc.assert(
      fc.property(fc.integer({ min: -9007199254740990, max: 9007199254740990 }), (n) => {
        const bytes = encode(type, n);
        assert.deepEqual(bytes, reference(n));
        assert.equal(codecFor(type).decode(bytes), n);
      }),
    );
    for (const bad of [9007199254740991, -9007199254740991, 1.5, Number.NaN, '1']) {
      assert.throws(() => encode(type, bad), { code: 'PHIGATE_ERR_ENCODE' });
    }
    assert.throws(() => codecFor(type).decode(reference(2 ** 53)), { code: 'PHIGATE_ERR_DECODE' });
  });

  test('values that do not match the type throw PHIGATE_ERR_ENCODE, naming the path and never the value', () => {
    const type = avro.Type.forSchema(
      {
        type: 'record',
        name: 'Event',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'n', type: ['null', 'int'], default: null },
          { name: 'tags', type: { type: 'map', values: { type: 'array', items: 'string' } } },
          { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
          { name: 'fp', type: { type: 'fixed', name: 'Fp', size: 2 } },
          {
            name: 'either',
            type: [
              'null',
              { type: 'record', name: 'L', fields: [{ name: 'x', type: 'int' }] },
              { type: 'record', name: 'R', fields: [{ name: 'y', type: 'int' }] },
            ],
          },
        ],
      },
      { wrapUnions: 'auto' },
    );
    const good = {
      id: 'a',
      n: 1,
      tags: { t: ['x'] },
      kind: 'A',
      fp: Buffer.from([1, 2]),
      either: { L: { x: 1 } },
    };
    assert.deepEqual(encode(type, good), type.toBuffer(good));
    const { n: _n, ...withoutDefaulted } = good;
    assert.deepEqual(encode(type, withoutDefaulted), type.toBuffer(withoutDefaulted));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ id: 'jane.doe@example.com-SECRET'.length }, /^Event\.id: value is not a valid string$/],
      [{ n: 'SECRET' }, /^Event\.n: value is not a valid union value$/],
      [{ n: 1.5 }, /^Event\.n: value is not a valid int$/],
      [{ n: 2 ** 31 }, /^Event\.n: value is not a valid int$/],
      [{ tags: { t: ['ok', 42] } }, /^Event\.tags\.\*\[\]: value is not a valid string$/],
      [{ tags: ['SECRET'] }, /^Event\.tags: value is not a valid map$/],
      [{ kind: 'SECRET' }, /^Event\.kind: value is not a valid symbol of Kind$/],
      [{ fp: Buffer.from('SECRET') }, /^Event\.fp: value is not a valid fixed\(2\)$/],
      [{ either: { L: { x: 1 }, R: { y: 2 } } }, /^Event\.either: value is not a valid union value$/],
      [{ either: { SECRET: 1 } }, /^Event\.either: value is not a valid union value$/],
      [{ either: { L: { x: 'SECRET' } } }, /^L\.x: value is not a valid int$/],
      [{ id: undefined }, /^Event\.id: value is not a valid string$/],
    ];
    for (const [change, message] of cases) {
      const value = { ...good, ...change };
      assert.throws(() => type.toBuffer(value), 'avsc refuses it too');
      assert.throws(
        () => encode(type, value),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'PHIGATE_ERR_ENCODE');
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /SECRET|jane/);
          return true;
        },
      );
    }
    assert.throws(() => encode(type, null), {
      code: 'PHIGATE_ERR_ENCODE',
      message: /^Event: value is not a valid record$/,
    });
  });

  test('bodies that are cut short, too long or out of range are PHIGATE_ERR_DECODE', () => {
    const type = avro.Type.forSchema(
      {
        type: 'record',
        name: 'R',
        fields: [
          { name: 's', type: ['null', 'string'] },
          { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A'] } },
          { name: 'b', type: 'boolean' },
          { name: 'a', type: { type: 'array', items: 'long' } },
        ],
      },
      { wrapUnions: 'auto' },
    );
    const good = type.toBuffer({ s: 'abc', e: 'A', b: true, a: [1, 2] });
    const codec = codecFor(type);
    assert.deepEqual(codec.decode(good), { s: 'abc', e: 'A', b: true, a: [1, 2] });
    const bad: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 1)],
      ['trailing', Buffer.concat([good, Buffer.from([0])])],
      ['union index', Buffer.from([4, 0, 1, 0])],
      ['enum index', Buffer.from([0, 2, 1, 0])],
      ['boolean byte', Buffer.from([0, 0, 7, 0])],
      ['string past the end', Buffer.from([2, 100, 0x61])],
      ['negative length', Buffer.from([2, 1, 0x61])],
      ['block count past the end', Buffer.from([0, 0, 1, 0xfe, 0xff, 0xff, 0xff, 0x0f])],
    ];
    for (const [what, body] of bad) {
      assert.throws(() => codec.decode(body), { code: 'PHIGATE_ERR_DECODE' }, what);
    }
  });

  test('zero-byte items (nulls) are bounded per value, however many blocks announce them', () => {
    const type = avro.Type.forSchema({ type: 'array', items: 'null' });
    const codec = codecFor(type);
    assert.equal((codec.decode(type.toBuffer(new Array(1000).fill(null))) as unknown[]).length, 1000);
    // blocks of 500,000 nulls each: 3 bytes announce them, the third block is over the budget
    const block = Buffer.from([0xc0, 0x84, 0x3d]); // zig-zag varint of 500,000
    assert.equal(
      (codec.decode(Buffer.concat([block, block, Buffer.from([0])])) as unknown[]).length,
      ZERO_BYTE_ITEMS_PER_VALUE,
    );
    assert.throws(() => codec.decode(Buffer.concat([block, block, block, Buffer.from([0])])), {
      code: 'PHIGATE_ERR_DECODE',
    });
  });

  test('a map key __proto__ is an own entry, never a prototype; a field named __proto__ is refused', () => {
    const type = avro.Type.forSchema({ type: 'map', values: { type: 'map', values: 'string' } });
    const value = JSON.parse('{"__proto__": {"polluted": "yes"}}') as Record<string, unknown>;
    const bytes = type.toBuffer(value);
    const map = codecFor(type).decode(bytes) as Record<string, unknown>;
    assert.ok(Object.hasOwn(map, '__proto__'));
    assert.equal(Object.getPrototypeOf(map), Object.prototype);
    assert.equal((map as { polluted?: string }).polluted, undefined);
    assert.deepEqual(encode(type, map), bytes);
    const record = avro.Type.forSchema({
      type: 'record',
      name: 'P',
      fields: [{ name: '__proto__', type: 'string' }],
    });
    assert.throws(() => codecFor(record), { code: 'PHIGATE_ERR_BAD_SCHEMA' });
  });

  test('one codec per type, built once', () => {
    const type = avro.Type.forSchema('string');
    assert.equal(codecFor(type), codecFor(type));
  });
});
