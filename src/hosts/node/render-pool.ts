/**
 * The Node host's renderer: the shared scheduler (render/scheduler/pool.ts) on worker
 * threads, one per core by default, so renders use every core and never block the event loop
 * that serves cache hits; with `size: 0`, on the main thread. Each thread loads the face
 * detector on its first face/auto crop (render-worker.ts); on the main thread, one detector
 * serves every replacement of the inline thread.
 */
import { availableParallelism } from 'node:os';
import { startInlineThread } from '../../render/scheduler/inline-thread.js';
import { createRenderScheduler, type RenderScheduler, type SchedulerOptions } from '../../render/scheduler/pool.js';
import { nodeSha256Hex } from '../node-compat/node-crypto-sha256.js';
import { exposeGc } from './expose-gc.js';
import { lazyNodeFocalFinder } from './face-model.js';
import { startNodeThread } from './node-thread.js';

export type RenderPoolOptions = Omit<SchedulerOptions, 'startThread' | 'size'> & {
  /** Threads (default: the number of cores); 0 renders on the main thread. */
  size?: number;
};

export type RenderPool = RenderScheduler;

export function createRenderPool(opts: RenderPoolOptions): RenderPool {
  const size = opts.size ?? availableParallelism();
  let startThread = startNodeThread;
  if (size <= 0) {
    const findFocal = lazyNodeFocalFinder(opts.modules.faceNet, (err) => opts.log?.(`face detector unavailable, saliency only: ${String(err)}`));
    startThread = () => startInlineThread({ collectGarbage: exposeGc(), photoWarmUp: true, findFocal: () => findFocal });
  }
  return createRenderScheduler({ sourceKey: nodeSha256Hex, ...opts, size: Math.max(1, size), startThread });
}
