/**
 * The entry of a Node render thread (node-thread.ts): the platform-neutral thread body
 * (render/scheduler/serve-thread.ts) on worker_threads' parentPort, with a full GC after
 * large decodes so a replaced decoder's memory goes at once, and the face detector loaded in
 * this thread on its first face/auto crop (face-model.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { ThreadRequest } from '../../render/scheduler/protocol.js';
import { serveRenderThread } from '../../render/scheduler/serve-thread.js';
import { exposeGc } from './expose-gc.js';
import { lazyNodeFocalFinder } from './face-model.js';
import { hostLog } from '../../observability/host-log.js';

/**
 * A Node render thread keeps a WebAssembly instance up to 32 MB between renders (16 MB by
 * default, wasm-decoder.ts KEEP_MEMORY_BYTES), so most first-touch decodes reuse the memory the
 * last one grew instead of a forced full collection after each drop and every page faulted in
 * again. First-touch suite, three alternating pairs against 16 MB: CPU per request 0.957× →
 * 0.903× ipx's, requests/s 0.997× → 1.057×, peak RSS 315–350 → 349–361 MB. The Deno host keeps
 * the default: its peak is the higher one (316–368 MB in full runs; 385 MB with 32 MB).
 */
const KEEP_INSTANCE_BYTES = 32 * 1024 * 1024;

const port = parentPort!;
serveRenderThread(
  {
    post: (m, transfer) => port.postMessage(m, (transfer ?? []) as never),
    listen: (fn) => void port.on('message', (m: ThreadRequest) => fn(m)),
  },
  {
    collectGarbage: exposeGc(),
    keepInstanceBytes: KEEP_INSTANCE_BYTES,
    photoWarmUp: true,
    findFocal: (modules) => lazyNodeFocalFinder(modules.faceNet, (err) => hostLog('face detector unavailable, saliency only:', err)),
  },
);
