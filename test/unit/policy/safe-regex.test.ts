import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkValueRegex } from '../../../src/policy/safe-regex.ts';

describe('checkValueRegex', () => {
  for (const ok of ['^M-[0-9]{8}$', 'MRN[0-9]{6,10}', '(?:ab)?c+', '[a-z]+@x\\.org', '(abc|def)-[0-9]+']) {
    test(`accepts ${ok}`, () => assert.equal(checkValueRegex(ok), null));
  }
  const bad: [string, RegExp][] = [
    ['(', /not a valid/],
    ['a*', /empty string/],
    ['(a+)+$', /repeats a group/],
    ['(a|aa)*b', /repeats a group/],
    ['(x\\d+)*y', /repeats a group/],
    ['(a)\\1', /backreference/],
    ['a(?=b)', /lookaround/],
    ['(?<!x)y', /lookaround/],
  ];
  for (const [pattern, why] of bad) {
    test(`rejects ${pattern}`, () => assert.match(checkValueRegex(pattern) ?? '', why));
  }
});
