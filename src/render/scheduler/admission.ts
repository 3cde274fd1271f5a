/**
 * Admission control: one memory budget for decoded pixels in flight plus kept masters. Each
 * job carries an estimate of its peak bytes (render-memory.ts), made from the header before
 * any decode; it starts only when the estimate fits what is left, and masters (least recently
 * used first) give way to it. A job whose estimate exceeds the whole budget could never
 * start: the scheduler refuses it at once (422 SOURCE_TOO_LARGE, render-memory.ts). Large decodes thus run in
 * parallel as far as the budget allows, and small ones alongside.
 */
import { HttpError } from '../../core/errors.js';
import type { MasterStore } from './masters.js';

export interface Budget {
  readonly limit: number;
  /** Bytes reserved by running jobs. */
  readonly inflight: number;
  /** Reserves `bytes` if they fit (evicting masters as needed); false when they cannot yet. */
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
  /** Whether `bytes` more can be held now (evicting masters as needed), without reserving them. */
  makeRoom(bytes: number): boolean;
}

export function createBudget(limit: number, masters: MasterStore): Budget {
  let inflight = 0;
  const makeRoom = (bytes: number): boolean => {
    if (inflight + bytes > limit) return false;
    const over = inflight + masters.bytes + bytes - limit;
    if (over > 0) masters.evict(over);
    return inflight + masters.bytes + bytes <= limit;
  };
  return {
    limit,
    get inflight() {
      return inflight;
    },
    tryReserve(bytes) {
      if (!makeRoom(bytes)) return false;
      inflight += bytes;
      return true;
    },
    release(bytes) {
      inflight = Math.max(0, inflight - bytes);
    },
    makeRoom,
  };
}

export const RENDER_QUEUE_FULL = 'RENDER_QUEUE_FULL';

/** 503 for a render that finds the queue full: the client (or the edge) should come back. */
export function renderQueueFull(retryAfterSeconds: number): HttpError {
  return new HttpError(503, RENDER_QUEUE_FULL, 'the renderer is busy; retry shortly', {
    'retry-after': String(retryAfterSeconds),
    'cache-control': 'no-store',
  });
}
