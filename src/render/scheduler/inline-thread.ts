/**
 * A "render thread" on the calling thread, for hosts without a Worker (Node with
 * RENDER_THREADS=0; a Deno deployment where Workers are unavailable): the same messages and
 * renderer as a worker, delivered as tasks instead of copied across threads, so the scheduler
 * (masters, admission, queue, deadlines) is the same either way. What it cannot do is stop a
 * running render: `terminate` only drops the thread's replies, and the render itself stops at
 * its next deadline check between stages (deadline.ts); a single WebAssembly call runs to its
 * end, holding the event loop meanwhile.
 */
import type { ThreadReply, ThreadRequest } from './protocol.js';
import { type ServeOptions, serveRenderThread } from './serve-thread.js';
import type { RenderThread } from './thread.js';

export function startInlineThread(opts: ServeOptions = {}): RenderThread {
  let listener: ((m: ThreadReply) => void) | undefined;
  let serve: ((m: ThreadRequest) => void) | undefined;
  let terminated = false;
  serveRenderThread(
    {
      post: (m) => {
        if (!terminated) setTimeout(() => listener?.(m), 0);
      },
      listen: (fn) => (serve = fn),
    },
    opts,
  );
  return {
    inProcess: true,
    // A task of its own, as a message would be: the caller's turn finishes first.
    post: (m) => {
      if (!terminated) setTimeout(() => serve?.(m), 0);
    },
    onMessage: (fn) => (listener = fn),
    onFailure: () => {},
    async terminate() {
      terminated = true;
    },
  };
}
