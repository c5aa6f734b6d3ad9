import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldsBuilder, recordBuilder } from '../../../../src/policy/compile/codegen.ts';
import { deliver, destinationFrom, typeOf } from '../support.ts';

describe('generated builders', () => {
  test('recordBuilder maps each field through its function', () => {
    const build = recordBuilder(['a', 'b'], [(v) => `${v}!`, (v) => v]);
    assert.deepEqual(build({ a: 'x', b: 2, c: 'ignored' }), { a: 'x!', b: 2 });
  });
  test('names an object literal treats specially fall back to a loop and stay own properties', () => {
    const build = recordBuilder(['constructor', 'x'], [(v) => v, (v) => v]);
    const out = build({ constructor: 'c', x: 1 }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['constructor', 'x']);
    assert.equal(out.constructor, 'c');
  });
  test('fieldsBuilder copies the static entries and adds the dynamic ones, leaving the statics untouched', () => {
    const statics = Object.freeze({ 'a.b': 'allow', 'c[]': 'drop' });
    const build = fieldsBuilder(statics);
    const out = build({ 'm.key "quoted"': 'allow', 'a.b': 'redact:email' });
    assert.deepEqual(out, { 'a.b': 'redact:email', 'c[]': 'drop', 'm.key "quoted"': 'allow' });
    assert.deepEqual(statics, { 'a.b': 'allow', 'c[]': 'drop' });
  });
  test('a writer record with a field named constructor plans and applies', () => {
    const t = typeOf({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'constructor', type: 'string' },
        { name: 'y', type: 'string' },
      ],
    });
    const plan = destinationFrom('    mode: blocklist\n    detectors: off\n').compile(t);
    const { value } = deliver(plan, t.clone({ constructor: 'c', y: 'z' }));
    assert.equal(value.constructor, 'c');
  });
});
