/**
 * A render thread on node:worker_threads, for the scheduler (render/scheduler/). The entry is
 * render-worker.ts next to this file (render-worker.js in the bundle, scripts/build-node.mjs).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadReply } from '../../render/scheduler/protocol.js';
import type { RenderThread } from '../../render/scheduler/thread.js';

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js', import.meta.url);

/**
 * Under tsx (the bench, vitest) the entry is TypeScript, and a worker inherits neither the
 * parent's module hooks nor, on Node 20, a working `--import tsx`: a small bootstrap
 * registers tsx in the thread first.
 */
function startWorker(): Worker {
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
