/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order.
 * Uploads share one, so a client uploading a hundred images in parallel gets a queue, not a
 * hundred decodes of a 50 MP original in memory at the same time.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
