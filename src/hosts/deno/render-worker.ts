/**
 * The entry of a Deno render thread: a module Web Worker running the platform-neutral thread
 * body (render/scheduler/serve-thread.ts). scripts/build-deno.mjs bundles it next to main.js
 * as render-worker.js; main.ts starts it with `new Worker(url, { type: 'module' })`. The face
 * detector (the face kernel the worker is given with the codecs, and face-api's weights from
 * face/ next to the bundle: this module's URL is dist/deno/render-worker.js, so ./face/ is the
 * directory the build fills) is loaded in this worker on its first face/auto crop.
 */
import type { ThreadReply, ThreadRequest } from '../../render/scheduler/protocol.js';
import { serveRenderThread } from '../../render/scheduler/serve-thread.js';
import { lazyDenoFocalFinder } from './face-model.js';
import { hostLog } from '../../observability/host-log.js';

interface WorkerScope {
  postMessage(message: ThreadReply, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ThreadRequest>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
// With `--v8-flags=--expose-gc` (scripts/start-deno.sh) V8 gives every isolate `gc`: then a
// replaced decoder's memory goes at once, as on Node, instead of at V8's next collection.
const gc = (globalThis as { gc?: () => void }).gc;
serveRenderThread(
  {
    post: (m, transfer) => scope.postMessage(m, transfer ?? []),
    listen: (fn) => scope.addEventListener('message', (event) => fn(event.data)),
  },
  {
    ...(typeof gc === 'function' ? { collectGarbage: gc } : {}),
    findFocal: (modules) =>
      lazyDenoFocalFinder(
        modules.faceNet,
        new URL('./face/', import.meta.url),
        (url) => Deno.readFile(url),
        (err) => hostLog('face detector unavailable, saliency only:', err),
      ),
  },
);
