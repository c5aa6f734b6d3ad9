import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePath, tokenMatches } from '../../../src/policy/paths.ts';

function tokens(text: string): string[] {
  const r = parsePath(text);
  if (!r.ok) throw new Error(r.error);
  return r.pattern.tokens.map((t) => (t.kind === 'name' ? `n:${t.name}` : t.kind));
}

describe('parsePath', () => {
  test('dot paths, [] items and * wildcards', () => {
    assert.deepEqual(tokens('properties.email'), ['n:properties', 'n:email']);
    assert.deepEqual(tokens('properties.items[].sku'), ['n:properties', 'n:items', 'items', 'n:sku']);
    assert.deepEqual(tokens('a[][]'), ['n:a', 'items', 'items']);
    assert.deepEqual(tokens('properties.extras.*'), ['n:properties', 'n:extras', 'star']);
    assert.deepEqual(tokens('*.email'), ['star', 'n:email']);
    assert.deepEqual(tokens('[].x'), ['items', 'n:x']);
  });

  test('quoted segments carry any map key', () => {
    assert.deepEqual(tokens('extras["a.b"]'), ['n:extras', 'n:a.b']);
    assert.deepEqual(tokens('extras.["x[]*"].y'), ['n:extras', 'n:x[]*', 'n:y']);
    assert.deepEqual(tokens('extras["q\\"uote"]'), ['n:extras', 'n:q"uote']);
    assert.deepEqual(tokens('Member-ID'), ['n:Member-ID']);
  });

  test('counts literal segments for specificity', () => {
    const r = parsePath('a.*.c[]');
    assert.ok(r.ok);
    assert.equal(r.pattern.literals, 2);
  });

  for (const bad of [
    '',
    'a..b',
    'a.',
    '.a',
    'a.[]',
    'a[0]',
    'a**',
    'a.**',
    'a b',
    'a["unterminated',
    'a[""]',
    'a]b',
    'a*b',
  ]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      const r = parsePath(bad);
      assert.equal(r.ok, false);
    });
  }
});

describe('tokenMatches', () => {
  test('* matches one field or map key but not an array item', () => {
    const star = { kind: 'star' } as const;
    assert.equal(tokenMatches(star, { kind: 'field', name: 'x' }), true);
    assert.equal(tokenMatches(star, { kind: 'key', key: 'k' }), true);
    assert.equal(tokenMatches(star, { kind: 'key', key: null }), true);
    assert.equal(tokenMatches(star, { kind: 'items' }), false);
  });

  test('a literal never matches the "any other key" entry of a map', () => {
    assert.equal(tokenMatches({ kind: 'name', name: 'k' }, { kind: 'key', key: null }), false);
    assert.equal(tokenMatches({ kind: 'name', name: 'k' }, { kind: 'key', key: 'k' }), true);
  });
});
