/**
 * Renders and uploads in flight per image, so a takedown in the same process can stop them:
 * `fence` marks each one cancelled (it then stores nothing and serves a 410) and waits until
 * each has ended, so the takedown's sweep and verification see their last write. Work in
 * other processes is not visible here; it re-checks the tombstone in the store instead
 * (variant-loader.ts, upload-service.ts).
 */

export interface ImageWork {
  /** A takedown of this image started while this work was running: write nothing, serve nothing. */
  readonly cancelled: boolean;
  /** Call exactly once, when the work has stopped writing (finally). */
  end(): void;
}

export interface FenceResult {
  /** Works that were running and are now cancelled. */
  cancelled: number;
  /** Of those, still running when the wait ran out (they may still write: the takedown is not complete). */
  stillRunning: number;
}

export interface InFlightRegistry {
  begin(tenant: string, id: string): ImageWork;
  /** Cancels the image's work in flight and waits for it to end, at most `timeoutMs`. */
  fence(tenant: string, id: string, timeoutMs?: number): Promise<FenceResult>;
}

/** Longer than any render or upload of one image takes (a 50 MP upload on the main thread is ~10 s). */
export const FENCE_TIMEOUT_MS = 30_000;

interface Entry {
  cancelled: boolean;
  ended: boolean;
  done: Promise<void>;
  resolve: () => void;
}

export function createInFlightRegistry(): InFlightRegistry {
  const byImage = new Map<string, Set<Entry>>();
  const keyOf = (tenant: string, id: string) => `${tenant}/${id}`;

  return {
    begin(tenant, id) {
      const key = keyOf(tenant, id);
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      const entry: Entry = { cancelled: false, ended: false, done, resolve };
      let set = byImage.get(key);
      if (!set) byImage.set(key, (set = new Set()));
      set.add(entry);
      return {
        get cancelled() {
          return entry.cancelled;
        },
        end() {
          if (entry.ended) return;
          entry.ended = true;
          const s = byImage.get(key);
          s?.delete(entry);
          if (s?.size === 0) byImage.delete(key);
          entry.resolve();
        },
      };
    },

    async fence(tenant, id, timeoutMs = FENCE_TIMEOUT_MS) {
      const running = [...(byImage.get(keyOf(tenant, id)) ?? [])];
      for (const e of running) e.cancelled = true;
      if (running.length === 0) return { cancelled: 0, stillRunning: 0 };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
      await Promise.race([Promise.all(running.map((e) => e.done)), timeout]);
      clearTimeout(timer);
      return { cancelled: running.length, stillRunning: running.filter((e) => !e.ended).length };
    },
  };
}
