/**
 * One render thread of the pool (render-pool.ts): its own jsquash codec instances, fed one
 * job at a time. Its WebAssembly memories only grow, so the pool replaces the thread after a
 * large source or many renders rather than letting a peak stay for the life of the process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Limits } from '../../core/config/service-config.js';
import { isHttpError } from '../../core/errors.js';
import type { RenderResult, RenderTimings } from '../../core/ports.js';
import type { FocalRecord } from '../../core/focal-point.js';
import type { Variant } from '../../core/variant.js';
import { toImageData } from '../../render/image-data.js';
import type { Master } from '../../render/master.js';
import type { CodecModules } from '../../render/codec-modules.js';
import { createJsquashRenderer } from '../../render/jsquash-renderer.js';
import { exposeGc } from './expose-gc.js';
import { lazyNodeFocalFinder } from './face-model.js';

export interface WorkerInit {
  modules: CodecModules;
  limits?: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'>;
}

/** A master's pixels cross threads as a plain (or shared) buffer plus its facts. */
export interface MasterMessage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
  factor: number;
  info: Master['info'];
}

/** Render from `source` (keeping its master when asked), or from a kept `master`. */
export type WorkerRequest = { id: number; variant: Variant } & ({ source: Uint8Array; keepMaster: boolean } | { master: MasterMessage });

export type WorkerReply =
  | { id: number; ok: true; body: Uint8Array; width: number; height: number; timings: RenderTimings; master?: MasterMessage; focal?: FocalRecord }
  | { id: number; ok: false; error: { status?: number; code?: string; message: string; headers?: Record<string, string>; cause?: string } };

const { modules, limits } = workerData as WorkerInit;
const findFocal = lazyNodeFocalFinder((err) => console.error(`face detector unavailable, saliency only: ${String(err)}`));
const renderer = createJsquashRenderer(modules, { limits, collectGarbage: exposeGc(), findFocal });

const ready = renderer.warmUp();
ready.then(
  () => parentPort!.postMessage({ ready: true }),
  (err: unknown) => parentPort!.postMessage({ ready: false, message: String(err) }),
);

const fromMessage = (m: MasterMessage): Master => ({ image: toImageData(m.data, m.width, m.height), factor: m.factor, info: m.info });

async function run(req: WorkerRequest): Promise<RenderResult & { master?: Master }> {
  if ('master' in req) return renderer.renderFromMaster(fromMessage(req.master), req.variant);
  return req.keepMaster ? renderer.renderKeepingMaster(req.source, req.variant) : renderer.render(req.source, req.variant);
}

parentPort!.on('message', async (req: WorkerRequest) => {
  const { id } = req;
  try {
    await ready;
    const r = await run(req);
    const reply: WorkerReply = { id, ok: true, body: r.body, width: r.width, height: r.height, timings: r.timings, ...(r.focal ? { focal: r.focal } : {}) };
    const transfer = [r.body.buffer as ArrayBuffer];
    if (r.master) {
      const { image, factor, info } = r.master;
      reply.master = { data: image.data, width: image.width, height: image.height, factor, info };
      transfer.push(image.data.buffer as ArrayBuffer);
    }
    parentPort!.postMessage(reply, transfer);
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    const error = isHttpError(err)
      ? { status: err.status, code: err.code, message: err.message, headers: err.headers, cause: e.cause === undefined ? undefined : String(e.cause) }
      : { message: e?.message ?? String(err) };
    parentPort!.postMessage({ id, ok: false, error } satisfies WorkerReply);
  }
});
