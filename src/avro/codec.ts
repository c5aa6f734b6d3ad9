/**
 * Avro binary codecs compiled per schema: one generated reader and one generated writer per avsc
 * Type, with every record, union and collection of the schema inlined as straight-line code.
 *
 * avsc stays the schema model (parsing, canonical forms, resolution, the CLI's JSON forms); this
 * replaces its generic per-value path on the hot path of the pipeline: avsc dispatches every field
 * through a megamorphic `_read`/`_write` and finds a union's branch by a dictionary lookup, which
 * costs more than the policy itself for an allowlist destination. Values are exactly avsc's shapes
 * under `wrapUnions: 'auto'` (records as objects with the fields in order, maps as objects, wrapped
 * union values as `{ branchName: value }`), the bytes are exactly avsc's (the unit tests check both
 * against avsc for random schemas and values), and a value that does not match the type throws —
 * naming the path and the expected type, never the value.
 *
 * Generated source is built only from JSON-quoted strings, integers and the names of the helpers
 * below; field names are read with quoted property keys.
 */
import type avro from 'avsc';
import { PhiGateError } from '../errors.ts';
import { bucketOfType } from './buckets.ts';
import { decodeError, ReadCursor, WriteCursor } from './cursor.ts';

export interface AvroCodec {
  /** The value of a whole Avro body; throws PHIGATE_ERR_DECODE (truncated, trailing bytes, bad index). */
  decode(body: Buffer): unknown;
  /**
   * Writes `value` at `offset` of `buf` and returns the end, or — like avsc's `Type#encode` — minus
   * the number of bytes missing when `buf` is too small. Throws PHIGATE_ERR_ENCODE when the value
   * does not match the type.
   */
  encode(value: unknown, buf: Buffer, offset: number): number;
}

/** The parts of an avsc Type this compiler reads. */
interface TypeNode {
  readonly typeName: string;
  readonly name?: string;
  readonly branchName?: string;
  readonly fields?: readonly FieldNode[];
  readonly itemsType?: TypeNode;
  readonly valuesType?: TypeNode;
  readonly types?: readonly TypeNode[];
  readonly symbols?: readonly string[];
  readonly size?: number;
  toBuffer(value: unknown): Buffer;
}

interface FieldNode {
  readonly name: string;
  readonly type: TypeNode;
  defaultValue(): unknown;
}

const codecs = new WeakMap<avro.Type, AvroCodec>();
/** What the cursors hold between calls, so that no record's buffer is kept alive by them. */
const EMPTY = Buffer.alloc(0);

/** The compiled codec of `type`, built on first use and kept as long as the type lives. */
export function codecFor(type: avro.Type): AvroCodec {
  let codec = codecs.get(type);
  if (codec === undefined) {
    codec = compileCodec(type as unknown as TypeNode);
    codecs.set(type, codec);
  }
  return codec;
}

function invalid(path: string, expected: string): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_ENCODE', `${path || '(root)'}: value is not a valid ${expected}`);
}

function unsupported(type: TypeNode): PhiGateError {
  return new PhiGateError('PHIGATE_ERR_BAD_SCHEMA', `Avro type ${type.typeName} has no compiled codec`);
}

/** A fixed type's size, checked to be a plain integer before it goes into generated source. */
function fixedSize(type: TypeNode): number {
  const size = type.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw unsupported(type);
  return size;
}

/** Bytes the smallest value of `type` takes (bounds block counts; 0 only for null and empty records). */
function minBytes(type: TypeNode, seen = new Set<TypeNode>()): number {
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return type.size ?? 0;
    case 'record':
    case 'error': {
      if (seen.has(type)) return 1;
      seen.add(type);
      let n = 0;
      for (const f of type.fields ?? []) n += minBytes(f.type, seen);
      seen.delete(type);
      return n;
    }
    default:
      return 1;
  }
}

/** What the generated source refers to: constants and one function per record type. */
class Unit {
  readonly constants: unknown[] = [];
  readonly functions: string[] = [];
  readonly #records = new Map<TypeNode, string>();
  #temps = 0;

  constant(value: unknown): string {
    this.constants.push(value);
    return `k${this.constants.length - 1}`;
  }

  temp(): string {
    return `t${this.#temps++}`;
  }

  /** The generated function for a record type, emitted once however often the type is used. */
  record(type: TypeNode, prefix: 'r' | 'w', emit: (name: string) => string): string {
    let name = this.#records.get(type);
    if (name === undefined) {
      name = `${prefix}${this.#records.size}`;
      this.#records.set(type, name);
      this.functions.push(emit(name));
    }
    return name;
  }

  link(entry: string, helpers: Record<string, unknown>): unknown {
    const names = [...Object.keys(helpers), ...this.constants.map((_, i) => `k${i}`)];
    const source = `${this.functions.join('\n')}\nreturn ${entry};`;
    return new Function(...names, source)(...Object.values(helpers), ...this.constants);
  }
}

const q = JSON.stringify;

// ---------------------------------------------------------------------------------------- reading

/** Primitive type → the expression that reads it (the cursor methods are named after the types). */
const PRIMITIVE_READS = new Map([
  ['null', 'null'],
  ...['boolean', 'int', 'long', 'float', 'double', 'string', 'bytes'].map((t) => [t, `c.${t}()`] as const),
]);

/** Statements that read one value of `type` from cursor `c` into the variable `out`. */
function emitRead(unit: Unit, type: TypeNode, out: string): string {
  const primitive = PRIMITIVE_READS.get(type.typeName);
  if (primitive !== undefined) return `${out} = ${primitive};`;
  switch (type.typeName) {
    case 'fixed':
      return `${out} = c.fixed(${fixedSize(type)});`;
    case 'enum': {
      const symbols = unit.constant(type.symbols);
      return `${out} = ${symbols}[c.long()]; if (${out} === undefined) throw decodeError('enum index out of range');`;
    }
    case 'record':
    case 'error':
      if (type.fields?.some((f) => f.name === '__proto__')) {
        throw new PhiGateError('PHIGATE_ERR_BAD_SCHEMA', `record ${type.name} has a field named __proto__`);
      }
      return `${out} = ${unit.record(type, 'r', (name) => readRecord(unit, type, name))}(c);`;
    case 'array': {
      const item = unit.temp();
      const n = unit.temp();
      const min = minBytes(type.itemsType as TypeNode);
      return `${out} = [];
for (let ${n} = c.blockCount(${min}); ${n} !== 0; ${n} = c.blockCount(${min})) {
  for (; ${n} > 0; ${n}--) { let ${item}; ${emitRead(unit, type.itemsType as TypeNode, item)} ${out}.push(${item}); }
}`;
    }
    case 'map': {
      const key = unit.temp();
      const value = unit.temp();
      const n = unit.temp();
      const values = type.valuesType as TypeNode;
      // every key also takes at least its length byte
      const min = 1 + minBytes(values);
      return `${out} = {};
for (let ${n} = c.blockCount(${min}); ${n} !== 0; ${n} = c.blockCount(${min})) {
  for (; ${n} > 0; ${n}--) { const ${key} = c.string(); let ${value}; ${emitRead(unit, values, value)} setEntry(${out}, ${key}, ${value}); }
}`;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const wrapped = type.typeName === 'union:wrapped';
      const cases = (type.types ?? []).map((branch, i) => {
        const inner = unit.temp();
        const read = emitRead(unit, branch, inner);
        const value =
          wrapped && branch.typeName !== 'null'
            ? `${out} = { [${q(branch.branchName)}]: ${inner} };`
            : `${out} = ${inner};`;
        return `case ${i}: { let ${inner}; ${read} ${value} break; }`;
      });
      return `switch (c.long()) { ${cases.join(' ')} default: throw decodeError('union branch index out of range'); }`;
    }
    default:
      throw unsupported(type);
  }
}

function readRecord(unit: Unit, type: TypeNode, name: string): string {
  const fields = type.fields ?? [];
  const vars = fields.map(() => unit.temp());
  const reads = fields.map((f, i) => `let ${vars[i]}; ${emitRead(unit, f.type, vars[i] as string)}`);
  // one object literal per record type: V8 gives every value of it the same hidden class
  const literal = fields.map((f, i) => `${q(f.name)}: ${vars[i]}`).join(', ');
  return `function ${name}(c) {\n${reads.join('\n')}\nreturn { ${literal} };\n}`;
}

/** Map entries as own properties, whatever the key (a plain `o[k] = v` with `__proto__` would not). */
function setEntry(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[key] = value;
  }
}

// ---------------------------------------------------------------------------------------- writing

/** Per avsc bucket, the test that a value belongs to it (picks an unwrapped union's branch). */
const BUCKET_TESTS = new Map<string, (x: string) => string>([
  ['null', (x) => `${x} === null`],
  ['boolean', (x) => `typeof ${x} === 'boolean'`],
  ['number', (x) => `typeof ${x} === 'number'`],
  ['string', (x) => `typeof ${x} === 'string'`],
  ['buffer', (x) => `Buffer.isBuffer(${x})`],
  ['array', (x) => `Array.isArray(${x})`],
  [
    'object',
    (x) => `(typeof ${x} === 'object' && ${x} !== null && !Array.isArray(${x}) && !Buffer.isBuffer(${x}))`,
  ],
]);

function bucketTest(type: TypeNode, x: string): string {
  const test = BUCKET_TESTS.get(bucketOfType(type.typeName));
  if (test === undefined) throw unsupported(type);
  return test(x);
}

/** Statements that write the value in variable `x` as `type` to cursor `c`; `path` names it in errors. */
function emitWrite(unit: Unit, type: TypeNode, x: string, path: string): string {
  const fail = (expected: string) => `throw invalid(${q(path)}, ${q(expected)});`;
  switch (type.typeName) {
    case 'null':
      return `if (${x} !== null) ${fail('null')}`;
    case 'boolean':
      return `if (typeof ${x} !== 'boolean') ${fail('boolean')} c.boolean(${x});`;
    case 'int':
      return `if (${x} !== (${x} | 0)) ${fail('int')} c.long(${x});`;
    case 'long':
      return `if (typeof ${x} !== 'number' || !(${x} % 1 === 0 && ${x} >= -9007199254740990 && ${x} <= 9007199254740990)) ${fail('long')} c.long(${x});`;
    case 'float':
      return `if (typeof ${x} !== 'number') ${fail('float')} c.float(${x});`;
    case 'double':
      return `if (typeof ${x} !== 'number') ${fail('double')} c.double(${x});`;
    case 'string':
      return `if (typeof ${x} !== 'string') ${fail('string')} c.string(${x});`;
    case 'bytes':
      return `if (!Buffer.isBuffer(${x})) ${fail('bytes')} c.bytes(${x});`;
    case 'fixed':
      return `if (!Buffer.isBuffer(${x}) || ${x}.length !== ${fixedSize(type)}) ${fail(`fixed(${type.size})`)} c.fixed(${x});`;
    case 'enum': {
      const indices = unit.constant(new Map((type.symbols ?? []).map((s, i) => [s, i])));
      const i = unit.temp();
      return `const ${i} = ${indices}.get(${x}); if (${i} === undefined) ${fail(`symbol of ${type.name}`)} c.long(${i});`;
    }
    case 'record':
    case 'error': {
      const fn = unit.record(type, 'w', (name) => writeRecord(unit, type, name));
      return `${fn}(c, ${x});`;
    }
    case 'array': {
      const i = unit.temp();
      const item = unit.temp();
      return `if (!Array.isArray(${x})) ${fail('array')}
if (${x}.length !== 0) {
  c.long(${x}.length);
  for (let ${i} = 0; ${i} < ${x}.length; ${i}++) { const ${item} = ${x}[${i}]; ${emitWrite(unit, type.itemsType as TypeNode, item, `${path}[]`)} }
}
c.small(0);`;
    }
    case 'map': {
      const keys = unit.temp();
      const k = unit.temp();
      const value = unit.temp();
      return `if (typeof ${x} !== 'object' || ${x} === null || Array.isArray(${x}) || Buffer.isBuffer(${x})) ${fail('map')}
const ${keys} = Object.keys(${x});
if (${keys}.length !== 0) {
  c.long(${keys}.length);
  for (const ${k} of ${keys}) { c.string(${k}); const ${value} = ${x}[${k}]; ${emitWrite(unit, type.valuesType as TypeNode, value, `${path}.*`)} }
}
c.small(0);`;
    }
    case 'union:unwrapped': {
      const branches = (type.types ?? []).map((branch, i) => {
        const index = i < 64 ? `c.small(${i});` : `c.long(${i});`;
        return `if (${bucketTest(branch, x)}) { ${index} ${emitWrite(unit, branch, x, path)} }`;
      });
      return `${branches.join(' else ')} else ${fail('union value')}`;
    }
    case 'union:wrapped': {
      const name = unit.temp();
      const cases: string[] = [];
      let nullCase = fail('union value');
      for (const [i, branch] of (type.types ?? []).entries()) {
        if (branch.typeName === 'null') {
          nullCase = `c.long(${i});`;
          continue;
        }
        const inner = unit.temp();
        cases.push(
          `case ${q(branch.branchName)}: { c.long(${i}); const ${inner} = ${x}[${name}]; ${emitWrite(unit, branch, inner, path)} break; }`,
        );
      }
      return `if (${x} === null) { ${nullCase} } else {
  const ${name} = soleKey(${x});
  switch (${name}) { ${cases.join(' ')} default: ${fail('union value')} }
}`;
    }
    default:
      throw unsupported(type);
  }
}

/**
 * One writer function per record type. Error paths start at the innermost record's name
 * (`Page.url`, `Item.tags[]`): constants, so the hot path never builds a path.
 */
function writeRecord(unit: Unit, type: TypeNode, name: string): string {
  const body = (type.fields ?? []).map((f) => {
    const x = unit.temp();
    const read = `const ${x} = v[${q(f.name)}];`;
    const write = emitWrite(unit, f.type, x, `${type.name}.${f.name}`);
    const fallback = f.defaultValue();
    if (fallback === undefined) return `${read} ${write}`;
    // a missing field takes its default, as avsc does (the bytes computed once)
    const bytes = unit.constant(f.type.toBuffer(fallback));
    return `${read} if (${x} === undefined) c.fixed(${bytes}); else { ${write} }`;
  });
  return `function ${name}(c, v) {
if (typeof v !== 'object' || v === null) throw invalid(${q(type.name)}, 'record');
${body.join('\n')}
}`;
}

/** The key of a single-key object (a wrapped union value), otherwise undefined. */
function soleKey(value: object): string | undefined {
  let found: string | undefined;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    if (found !== undefined) return undefined;
    found = k;
  }
  return found;
}

// ---------------------------------------------------------------------------------------- linking

function compileCodec(type: TypeNode): AvroCodec {
  const readUnit = new Unit();
  readUnit.functions.push(`function read(c) { let v; ${emitRead(readUnit, type, 'v')} return v; }`);
  const read = readUnit.link('read', { decodeError, setEntry }) as (c: ReadCursor) => unknown;

  const writeUnit = new Unit();
  writeUnit.functions.push(`function write(c, v) { ${emitWrite(writeUnit, type, 'v', '')} }`);
  const write = writeUnit.link('write', { invalid, soleKey }) as (c: WriteCursor, v: unknown) => void;

  const reader = new ReadCursor();
  const writer = new WriteCursor();
  return {
    decode(body) {
      reader.reset(body);
      try {
        const value = read(reader);
        reader.finish();
        return value;
      } catch (err) {
        if (err instanceof PhiGateError) throw err;
        throw decodeError('value does not decode'); // e.g. a RangeError of the buffer
      } finally {
        reader.reset(EMPTY);
      }
    },
    encode(value, buf, offset) {
      writer.reset(buf, offset);
      try {
        write(writer, value);
        const end = writer.pos;
        return end > buf.length ? buf.length - end : end;
      } finally {
        writer.reset(EMPTY, 0);
      }
    },
  };
}
