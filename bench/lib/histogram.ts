/**
 * Prometheus histograms as the benchmark reads them from a process's /metrics: cumulative bucket
 * counts, the difference of two scrapes, and the bucket bounds that quantiles lie under.
 */

/** Upper bound (seconds; `Infinity` for `+Inf`) → cumulative count. */
export type Buckets = ReadonlyMap<number, number>;

/**
 * Adds the `<name>_bucket` series of `lines` into one cumulative histogram (summed over labels and
 * over the scraped processes). `labels` narrows the series to those whose line contains it.
 */
export function bucketsOf(lines: readonly string[], name: string, labels = ''): Map<number, number> {
  const out = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of lines) {
    if (!line.startsWith(prefix) || !line.includes(labels)) continue;
    const le = /[{,]le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** What was observed between two scrapes (`before` absent: since the start). */
export function since(now: Buckets, before?: Buckets): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, count] of now) out.set(le, count - (before?.get(le) ?? 0));
  return out;
}

const sorted = (b: Buckets) => [...b].sort((x, y) => x[0] - y[0]);

/** Observations counted (the `+Inf` bucket, or the largest one). */
export function total(b: Buckets): number {
  return sorted(b).at(-1)?.[1] ?? 0;
}

/**
 * The smallest bucket bound that holds at least the share `q` of the observations: the q-quantile
 * is at most that (`Infinity` when it lies above every finite bound; NaN with no observations).
 * A bound, not an estimate: interpolating within a wide bucket can put the quantile far from where
 * the observations were.
 */
export function upperBound(b: Buckets, q: number): number {
  const n = total(b);
  if (n === 0) return Number.NaN;
  for (const [le, count] of sorted(b)) if (count >= q * n) return le;
  return Number.POSITIVE_INFINITY;
}

/** The share of observations at or below `bound`, which must be one of the buckets' bounds. */
export function shareWithin(b: Buckets, bound: number): number {
  const n = total(b);
  const at = b.get(bound);
  if (at === undefined) throw new Error(`no bucket bound ${bound}`);
  return n === 0 ? Number.NaN : at / n;
}
