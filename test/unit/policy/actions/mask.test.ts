import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMaskAction } from '../../../../src/policy/actions/mask.ts';

describe('mask action', () => {
  test('keepLast keeps the tail, the rest becomes * (length kept)', () => {
    assert.equal(createMaskAction(0, 4)('+1 617 555 0142'), '***********0142');
  });
  test('keepFirst and keepLast together', () => {
    assert.equal(createMaskAction(2, 2)('ABCDEFG'), 'AB***FG');
  });
  test('a value not longer than what would be kept is masked entirely', () => {
    assert.equal(createMaskAction(0, 4)('0142'), '****');
    assert.equal(createMaskAction(2, 2)('abc'), '***');
  });
  test('counts code points, not UTF-16 units', () => {
    assert.equal(createMaskAction(1, 1)('é😀😀x'), 'é**x');
  });
  test('numbers are masked in their text form; empty stays empty', () => {
    assert.equal(createMaskAction(0, 2)(123456), '****56');
    assert.equal(createMaskAction(0, 2)(''), '');
  });
});
