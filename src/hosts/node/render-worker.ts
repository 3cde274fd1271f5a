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

const port = parentPort!;
serveRenderThread(
  {
    post: (m, transfer) => port.postMessage(m, (transfer ?? []) as never),
    listen: (fn) => void port.on('message', (m: ThreadRequest) => fn(m)),
  },
  {
    collectGarbage: exposeGc(),
    photoWarmUp: true,
    findFocal: (modules) => lazyNodeFocalFinder(modules.faceNet, (err) => hostLog('face detector unavailable, saliency only:', err)),
  },
);
