import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createUrlAction, keptQuery } from '../../../../src/policy/actions/url.ts';

/** What keptQuery replaces: URLSearchParams parsing the query, a second one serializing the kept pairs. */
function viaUrlSearchParams(search: string, keep: ReadonlySet<string>): string {
  const kept = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(search)) if (keep.has(k)) kept.append(k, v);
  return kept.toString();
}

/** Query text as it arrives: names and values with '+', '%', escapes valid and not, UTF-8 bytes good and bad. */
const queryText = fc
  .array(
    fc.oneof(
      fc.constantFrom('utm_source', 'utm_medium', 'gclid', 'q', 'email', 'a b', 'é', '💊'),
      fc.constantFrom(
        '=',
        '&',
        '+',
        '%',
        '%2',
        '%zz',
        '%20',
        '%2B',
        '%26',
        '%3D',
        '%C3%A9',
        '%E2%82',
        '%FF',
        '%EF%BB%BF',
      ),
      fc.constantFrom(
        '%F0%9F%92%8A',
        '%ED%A0%80',
        '%c3%a9',
        '*',
        '-',
        '.',
        '_',
        '~',
        '!',
        "'",
        '(',
        ')',
        '#',
      ),
      fc.string({ maxLength: 4 }),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { maxLength: 24 },
  )
  .map((parts) => parts.join(''));
const asciiQueryText = queryText.map((q) => q.replace(/[\u0080-\u{10ffff}]/gu, ''));

describe('url action', () => {
  const utm = createUrlAction(['utm_source', 'utm_campaign', 'gclid'], false);
  test('keeps scheme, host and the listed parameters in their order; drops path, others, fragment', () => {
    assert.equal(
      utm('https://care.example.com/patients/4411/labs?q=chest+pain&utm_source=news&gclid=abc#top'),
      'https://care.example.com/?utm_source=news&gclid=abc',
    );
  });
  test('keepPath keeps the path', () => {
    assert.equal(
      createUrlAction([], true)('https://care.example.com/find-a-doctor?q=x'),
      'https://care.example.com/find-a-doctor',
    );
  });
  test('user info goes, the port stays', () => {
    assert.equal(
      createUrlAction([], false)('http://jane:secret@example.com:8080/x'),
      'http://example.com:8080/',
    );
  });
  test('repeated kept parameters stay; no query when none is kept', () => {
    assert.equal(
      utm('https://x.example/?utm_source=a&utm_source=b'),
      'https://x.example/?utm_source=a&utm_source=b',
    );
    assert.equal(utm('https://x.example/?email=jane%40example.com'), 'https://x.example/');
  });
  for (const bad of [
    '/relative/path?x=1',
    'not a url',
    'mailto:jane@example.com',
    'javascript:alert(1)',
    'ftp://x.example/file',
  ]) {
    test(`fails closed on ${JSON.stringify(bad)}`, () =>
      assert.throws(() => utm(bad), { code: 'PHIGATE_ERR_ACTION' }));
  }
  test('the error never quotes the value', () => {
    try {
      utm('https//jane.testperson@example.com');
      assert.fail('expected a throw');
    } catch (err) {
      assert.doesNotMatch(String((err as Error).message), /jane/);
      assert.equal((err as Error).cause, undefined);
    }
  });
  test('the empty string stays empty', () => assert.equal(utm(''), ''));

  test('the kept query equals what URLSearchParams gives, for any ASCII query and any names kept', () => {
    // ASCII: what a URL parser leaves in `search` (it escapes the rest). On raw non-ASCII mixed with
    // escapes Node's URLSearchParams strays from the WHATWG parser; keptQuery follows the parser.
    const names = ['utm_source', 'utm_medium', 'gclid', 'q', 'a b', 'é', '💊', '', '=', '+', '%'];
    fc.assert(
      fc.property(asciiQueryText, fc.subarray(names), fc.boolean(), (query, kept, leadingMark) => {
        const keep = new Set(kept);
        const search = leadingMark ? `?${query}` : query;
        assert.equal(keptQuery(search, keep), viaUrlSearchParams(search, keep));
      }),
      { numRuns: 3000 },
    );
  });

  test('through the action, on the query a URL parser leaves: the same as URLSearchParams', () => {
    const action = createUrlAction(['utm_source', 'gclid', 'é', 'a b'], true);
    fc.assert(
      fc.property(queryText, (query) => {
        let url: URL;
        try {
          url = new URL(`https://x.example/p?${query}`);
        } catch {
          return; // not a URL: the action fails closed, tested above
        }
        const expected = viaUrlSearchParams(url.search, new Set(['utm_source', 'gclid', 'é', 'a b']));
        assert.equal(action(url.href), `https://x.example/p${expected === '' ? '' : `?${expected}`}`);
      }),
      { numRuns: 2000 },
    );
  });
});
