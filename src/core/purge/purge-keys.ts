import { backoffDelay, DEFAULT_RETRY, errorText, mapBounded, realSleep, type RetryPolicy, type Sleep } from '../bounded.js';
import type { PurgeKeyResult, Purger } from './purger.js';

export interface PurgeReport extends PurgeKeyResult {
  soft: boolean;
  attempts: number;
}

export interface PurgeOptions {
  soft: boolean;
  /** Batches in flight at once (each batch is one purge call). */
  concurrency?: number;
  retry?: RetryPolicy;
  sleep?: Sleep;
  /** Called after each batch settles, with keys settled so far and the total (CLI progress). */
  onProgress?: (settled: number, total: number) => void;
}

/** Four batch calls in flight: a 10 000-key purge is ~40 calls, done in seconds without tripping rate limits. */
export const PURGE_CONCURRENCY = 4;

/**
 * Purges many surrogate keys: deduplicated, split into the purger's batch size, batches run
 * with bounded concurrency, failed keys (or whole failed batches) retried with backoff.
 * One report per distinct key, in input order; never throws.
 */
export async function purgeKeys(purger: Purger, keys: readonly string[], opts: PurgeOptions): Promise<PurgeReport[]> {
  const unique = [...new Set(keys)];
  const size = Math.max(1, purger.maxBatch ?? 256);
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += size) batches.push(unique.slice(i, i + size));
  const policy = opts.retry ?? DEFAULT_RETRY;
  const sleep = opts.sleep ?? realSleep;

  const reports = new Map<string, PurgeReport>();
  let settled = 0;
  await mapBounded(batches, opts.concurrency ?? PURGE_CONCURRENCY, async (batch) => {
    let pending = batch;
    for (let attempt = 1; pending.length > 0 && attempt <= policy.attempts; attempt++) {
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, policy));
      let results: PurgeKeyResult[];
      try {
        results = await purger.purge(pending, opts.soft);
      } catch (err) {
        const error = errorText(err);
        results = pending.map((key) => ({ key, ok: false, error }));
      }
      const byKey = new Map(results.map((r) => [r.key, r]));
      const failed: string[] = [];
      for (const key of pending) {
        // A key the purger did not report on counts as failed: silence is not success.
        const r = byKey.get(key) ?? { key, ok: false, error: 'no result for this key' };
        reports.set(key, { ...r, key, soft: opts.soft, attempts: attempt });
        if (!r.ok) failed.push(key);
      }
      pending = failed;
    }
    settled += batch.length;
    opts.onProgress?.(settled, unique.length);
  });
  return unique.map((k) => reports.get(k)!);
}
