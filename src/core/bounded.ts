/**
 * Bounded concurrency and retries for batches of store and purge calls (takedowns, erasures,
 * uploads' variant renders, precompute, migrate): a batch touches many objects and keys, and
 * neither the store nor a purge API should see them all at once. `errorText` is how every
 * report of these batches words a failure.
 */

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface BatchOptions<T> {
  /** Once aborted, items not yet started are skipped. */
  signal?: AbortSignal;
  /** An item's failure, in errorText's words; the batch carries on. */
  onError(item: T, error: string): void;
  /** After each item that was started, failed or not (progress). */
  after?(item: T): void;
}

/**
 * A batch that can be stopped and never throws (precompute, migrate): `fn` over `items` with at
 * most `limit` in flight, each failure handed to `onError`. Whether it was interrupted: true
 * when `signal` aborted before every item had started.
 */
export async function runBatch<T>(items: readonly T[], limit: number, opts: BatchOptions<T>, fn: (item: T) => Promise<void>): Promise<boolean> {
  let interrupted = false;
  await mapBounded(items, limit, async (item) => {
    if (opts.signal?.aborted) {
      interrupted = true;
      return;
    }
    try {
      await fn(item);
    } catch (err) {
      opts.onError(item, errorText(err));
    }
    opts.after?.(item);
  });
  return interrupted;
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubles each time, with ±50 % jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Three attempts over ~0.3 s: enough for a blip, short enough for a 3 am takedown to report quickly. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };

export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp * (0.5 + Math.random()));
}

export type Attempted<T> = { ok: true; value: T; attempts: number } | { ok: false; error: string; attempts: number };

/** Calls `fn` until it resolves or the attempts run out; never throws. */
export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, sleep: Sleep = realSleep): Promise<Attempted<T>> {
  let error = '';
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      return { ok: true, value: await fn(), attempts: attempt };
    } catch (err) {
      error = errorText(err);
      if (attempt < policy.attempts) await sleep(backoffDelay(attempt, policy));
    }
  }
  return { ok: false, error, attempts: policy.attempts };
}

/**
 * A short, single-line description of a failure for reports (no stack traces), with the
 * error's code when the message does not already say it (a store's `NetworkError`, say).
 */
export function errorText(err: unknown): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code && !msg.includes(code) ? `${msg} [${code}]` : msg;
}
