import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createUrlAction } from '../../../../src/policy/actions/url.ts';

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
});
