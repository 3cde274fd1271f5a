/**
 * The entry of a Deno render thread: a module Web Worker running the platform-neutral thread
 * body (render/scheduler/serve-thread.ts). scripts/build-deno.mjs bundles it next to main.js
 * as render-worker.js; main.ts starts it with `new Worker(url, { type: 'module' })`.
 */
import type { ThreadReply, ThreadRequest } from '../../render/scheduler/protocol.js';
import { serveRenderThread } from '../../render/scheduler/serve-thread.js';

interface WorkerScope {
  postMessage(message: ThreadReply, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ThreadRequest>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
serveRenderThread({
  post: (m, transfer) => scope.postMessage(m, transfer ?? []),
  listen: (fn) => scope.addEventListener('message', (event) => fn(event.data)),
});
