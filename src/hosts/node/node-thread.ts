/**
 * A render thread on node:worker_threads, for the scheduler (render/scheduler/). The entry is
 * render-worker.ts next to this file (render-worker.js in the bundle, scripts/build-node.mjs).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ThreadReply } from '../../render/scheduler/protocol.js';
import type { RenderThread } from '../../render/scheduler/thread.js';

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js', import.meta.url);

let threadFlagsSet = false;
/**
 * V8 flags are process-wide and read when an isolate or context is made, so these are set
 * before the first render thread's:
 * - `--expose-gc`: the thread's own global gets `gc` (expose-gc.ts), with no second context.
 * - `--initial-old-space-size` cleared: `npm start` runs node with it (package.json, README), a
 *   floor under the main isolate's old-generation limit; without one V8 keeps that limit just
 *   above the live heap, and the event loop's ~10 MB heap was marked in full every ~10
 *   first-touch requests. Render threads keep V8's own adaptive limit, under which their
 *   memory was measured (they also collect after large decodes: serve-thread.ts).
 */
export function v8FlagsForThreads(): void {
  if (threadFlagsSet) return;
  threadFlagsSet = true;
  setFlagsFromString('--expose-gc');
  setFlagsFromString('--initial-old-space-size=0');
}

/**
 * Under tsx (the bench, vitest) the entry is TypeScript, and a worker inherits neither the
 * parent's module hooks nor, on Node 20, a working `--import tsx`: a small bootstrap
 * registers tsx in the thread first.
 */
function startWorker(): Worker {
  v8FlagsForThreads();
  if (!ENTRY.pathname.endsWith('.ts')) return new Worker(ENTRY);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); })`;
  return new Worker(boot, { eval: true });
}

export function startNodeThread(): RenderThread {
  const worker = startWorker();
  return {
    post: (m, transfer) => worker.postMessage(m, (transfer ?? []) as never),
    onMessage: (fn) => void worker.on('message', (m: ThreadReply) => fn(m)),
    onFailure: (fn) => {
      worker.on('error', fn);
      worker.on('exit', (code) => fn(new Error(`render thread exited with code ${code}`)));
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
