/**
 * A render thread on a standard Web Worker (the Deno host): `new Worker(url, {type: 'module'})`
 * with an entry that calls serveRenderThread (src/hosts/deno/render-worker.ts). Compiled
 * WebAssembly modules cross to Deno's workers, and ArrayBuffers move, as they do with Node's.
 */
import type { ThreadReply } from './protocol.js';
import type { RenderThread } from './thread.js';

export function startWebWorkerThread(entry: URL): RenderThread {
  const worker = new Worker(entry, { type: 'module' });
  const failures: ((e: Error) => void)[] = [];
  worker.addEventListener('error', (event: ErrorEvent) => {
    event.preventDefault(); // reported here, not as an uncaught error of the whole process
    for (const f of failures) f(new Error(`render worker: ${event.message}`));
  });
  worker.addEventListener('messageerror', () => {
    for (const f of failures) f(new Error('render worker: a message could not be read'));
  });
  return {
    post: (m, transfer) => worker.postMessage(m, transfer ?? []),
    onMessage: (fn) => worker.addEventListener('message', (e: MessageEvent<ThreadReply>) => fn(e.data)),
    onFailure: (fn) => void failures.push(fn),
    async terminate() {
      worker.terminate();
    },
  };
}
