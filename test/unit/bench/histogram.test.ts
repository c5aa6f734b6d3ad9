/**
 * The benchmark's reading of phi-gate's histograms (bench/lib/histogram.ts), from prom-client's own
 * exposition text: the buckets summed over series, the difference of two scrapes, the bounds that
 * quantiles lie under.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { bucketsOf, shareWithin, since, total, upperBound } from '../../../bench/lib/histogram.ts';

async function scrape(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n');
}

describe('bench histograms', () => {
  test('buckets are summed over the series a label selects, and two scrapes give what came between', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'x_seconds',
      help: 'x',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25],
      registers: [registry],
    });
    h.observe({ outcome: 'commit' }, 0.02);
    h.observe({ outcome: 'abort' }, 0.02);
    const before = bucketsOf(await scrape(registry), 'x_seconds', 'outcome="commit"');
    assert.deepEqual(
      [...before],
      [
        [0.05, 1],
        [0.1, 1],
        [0.25, 1],
        [Number.POSITIVE_INFINITY, 1],
      ],
    );
    for (const v of [0.07, 0.2, 3]) h.observe({ outcome: 'commit' }, v);
    const now = bucketsOf(await scrape(registry), 'x_seconds', 'outcome="commit"');
    const between = since(now, before);
    assert.equal(total(between), 3);
    assert.deepEqual([...between.values()], [0, 1, 2, 3]);
    assert.equal(total(bucketsOf(await scrape(registry), 'x_seconds')), 5, 'no label: every series');
  });

  test('a quantile is bounded by the smallest bucket bound that holds its share', () => {
    // 100 observations: 50 in (0, 0.05], 40 in (0.05, 0.1], 9 in (0.1, 0.25], 1 above
    const b = new Map([
      [0.05, 50],
      [0.1, 90],
      [0.25, 99],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    assert.equal(upperBound(b, 0.5), 0.05);
    assert.equal(upperBound(b, 0.51), 0.1);
    assert.equal(upperBound(b, 0.99), 0.25);
    assert.equal(upperBound(b, 0.999), Number.POSITIVE_INFINITY);
    assert.equal(shareWithin(b, 0.1), 0.9);
    assert.throws(() => shareWithin(b, 0.2), /no bucket bound 0.2/);
  });

  test('no observations give no quantile and no share', () => {
    const empty = new Map([
      [0.1, 0],
      [Number.POSITIVE_INFINITY, 0],
    ]);
    assert.ok(Number.isNaN(upperBound(empty, 0.99)));
    assert.ok(Number.isNaN(shareWithin(empty, 0.1)));
    assert.ok(Number.isNaN(upperBound(new Map(), 0.5)));
  });
});
