/**
 * Bounded time per render. The scheduler stops a render past its deadline by terminating its
 * thread (pool.ts); inside the thread, and on the main thread where there is no other way,
 * the renderer also checks the deadline between stages (after the decode, after the resize).
 * A single WebAssembly call (one decode of a hostile progressive JPEG can take a minute)
 * cannot be interrupted from its own thread: without a worker it runs to its end.
 *
 * A source that timed out is remembered by its hash for a while, so requests for its other
 * variants (or the same one after the cache let go) answer at once instead of each holding a
 * thread for the whole deadline.
 */
import { HttpError } from '../../core/errors.js';

export const RENDER_TIMEOUT = 'RENDER_TIMEOUT';

export function renderTimeout(timeoutMs: number): HttpError {
  return new HttpError(422, RENDER_TIMEOUT, `rendering this source took longer than ${timeoutMs} ms; it is not retried for a while`);
}

export function deadlineCheckpoint(deadline: number): () => void {
  return () => {
    if (Date.now() > deadline) throw new HttpError(422, RENDER_TIMEOUT, 'rendering this source took longer than its deadline');
  };
}

export interface TimeoutMemory {
  has(key: string): boolean;
  add(key: string): void;
  readonly size: number;
}

/** Keys remembered for `ttlMs`, at most `maxEntries` (the oldest go first). */
export function createTimeoutMemory(ttlMs: number, maxEntries: number, now: () => number = Date.now): TimeoutMemory {
  const until = new Map<string, number>(); // insertion order = age
  return {
    has(key) {
      const t = until.get(key);
      if (t === undefined) return false;
      if (now() < t) return true;
      until.delete(key);
      return false;
    },
    add(key) {
      until.delete(key);
      until.set(key, now() + ttlMs);
      for (const k of until.keys()) {
        if (until.size <= maxEntries) break;
        until.delete(k);
      }
    },
    get size() {
      return until.size;
    },
  };
}
