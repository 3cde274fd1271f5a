/**
 * Latency percentiles in bounded memory: counts in log-spaced buckets (each 10 % wider than
 * the last, 0.01 ms to ~100 s), so a percentile is within 10 % of the true value.
 */
const MIN_MS = 0.01;
const GROWTH = 1.1;
const BUCKETS = Math.ceil(Math.log(1e7) / Math.log(GROWTH)) + 1;

export interface LatencyHistogram {
  add(ms: number): void;
  count(): number;
  /** The upper bound of the bucket holding the p-th percentile (p in 0..100); 0 when empty. */
  percentile(p: number): number;
}

export function createLatencyHistogram(): LatencyHistogram {
  const counts = new Float64Array(BUCKETS);
  let n = 0;
  const upper = (i: number) => MIN_MS * GROWTH ** i;
  return {
    add(ms) {
      const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
      counts[i]!++;
      n++;
    },
    count: () => n,
    percentile(p) {
      if (n === 0) return 0;
      const rank = Math.max(1, Math.ceil((p / 100) * n));
      let seen = 0;
      for (let i = 0; i < BUCKETS; i++) {
        seen += counts[i]!;
        if (seen >= rank) return upper(i);
      }
      return upper(BUCKETS - 1);
    },
  };
}
