import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName, editDistance } from '../../../src/config/suggest.ts';

test('editDistance counts insertions, deletions, substitutions and adjacent swaps as one edit', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('PHIGATE_LOG_LEVLE', 'PHIGATE_LOG_LEVEL'), 1);
  assert.equal(editDistance('PHIGATE_LOGLEVEL', 'PHIGATE_LOG_LEVEL'), 1);
});

test('closestName suggests plausible typos only, case-insensitively', () => {
  const known = ['PHIGATE_LOG_LEVEL', 'PHIGATE_METRICS_PORT', 'PHIGATE_METRICS_HOST'];
  assert.equal(closestName('phigate_log_level', known), 'PHIGATE_LOG_LEVEL');
  assert.equal(closestName('PHIGATE_METRIC_PORT', known), 'PHIGATE_METRICS_PORT');
  assert.equal(closestName('PHIGATE_METRICS_HOTS', known), 'PHIGATE_METRICS_HOST');
  assert.equal(closestName('PHIGATE_SOMETHING_ELSE', known), undefined);
  assert.equal(closestName('PHIGATE_X', []), undefined);
});
