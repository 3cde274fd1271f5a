/**
 * The inside of a render thread, the same on every platform: the first message brings the
 * compiled codec modules; the thread builds its own jsquash renderer, warms it up, says
 * ready, then renders the jobs it is given (the scheduler sends one at a time). The entry
 * files that bind it to a platform are tiny: src/hosts/node/render-worker.ts (worker_threads),
 * src/hosts/deno/render-worker.ts (Web Worker), inline-thread.ts (no worker).
 */
import { isHttpError } from '../../core/errors.js';
import type { CodecModules } from '../codec-modules.js';
import type { FocalFinder } from '../focal/find-focal.js';
import { toImageData } from '../image-data.js';
import { createJsquashRenderer, type JsquashRenderer } from '../jsquash-renderer.js';
import type { Master } from '../master.js';
import { deadlineCheckpoint } from './deadline.js';
import type { JobReply, MasterMessage, RenderJob, ThreadInit, ThreadReply, ThreadRequest } from './protocol.js';

export interface ThreadEndpoint {
  post(message: ThreadReply, transfer?: Transferable[]): void;
  listen(listener: (message: ThreadRequest) => void): void;
}

export interface ServeOptions {
  /** Run after a large decode (codecs.ts); Node passes a full GC (hosts/node/expose-gc.ts). */
  collectGarbage?: () => void;
  /** WebAssembly memory a decoder instance may keep between renders (codecs.ts `CodecOptions`). */
  keepInstanceBytes?: number;
  /** The renderer's `photoWarmUp` (jsquash-renderer.ts): the Node host's threads only. */
  photoWarmUp?: boolean;
  /**
   * Makes, from the codec modules the thread is given (the face kernel among them), what finds
   * an original's focal point for a face/auto crop sent without one (focal/find-focal.ts). The
   * thread's entry supplies it, because reading the detector's weights is platform work
   * (hosts/node/face-model.ts, hosts/deno/face-model.ts); the finder should load on first use,
   * so threads that never make such a crop never load the detector. Without it those crops centre.
   */
  findFocal?: (modules: CodecModules) => FocalFinder;
}

/**
 * Source bytes a thread receives between full collections it asks for. Every job's source is
 * the thread's own (a copy, or the caller's buffer moved here: pool.ts `handOver`), garbage
 * once the job ends; V8 collects only after tens of MB of such external memory, and glibc
 * keeps what it freed in the meantime. Failed decodes never reach the large-decode collection
 * (codecs.ts), so 200 of them (423 KB each) left the Deno host 50–80 MB larger. Collecting
 * every 16 MiB bounds that at a small cost: a full collection of a render thread's 7–10 MB
 * heap takes a few ms, once per several renders at most.
 */
const COLLECT_AFTER_SOURCE_BYTES = 16 * 1024 * 1024;

const fromMessage = (m: MasterMessage): Master => ({ image: toImageData(m.data, m.width, m.height), factor: m.factor, info: m.info });

function stallIfMarked(job: RenderJob, stall: ThreadInit['stallForTests']): void {
  if (!stall || !('source' in job)) return;
  const marker = new TextEncoder().encode(stall.marker);
  const src = job.source;
  outer: for (let i = 0; i + marker.length <= src.length; i++) {
    for (let j = 0; j < marker.length; j++) if (src[i + j] !== marker[j]) continue outer;
    const until = Date.now() + stall.ms;
    while (Date.now() < until); // holds the thread like one long WebAssembly call
    return;
  }
}

export function serveRenderThread(endpoint: ThreadEndpoint, opts: ServeOptions = {}): void {
  let renderer: JsquashRenderer | undefined;
  let init: ThreadInit | undefined;
  let ready: Promise<unknown> = Promise.reject(new Error('render thread not initialised'));
  ready.catch(() => {});
  let sourceBytesSinceCollection = 0;
  // Any full collection (the renderer's after a large decode too) takes the sources received so far.
  const collectGarbage =
    opts.collectGarbage &&
    (() => {
      sourceBytesSinceCollection = 0;
      opts.collectGarbage!();
    });
  const afterJob = (job: RenderJob) => {
    if (!collectGarbage || !('source' in job)) return;
    sourceBytesSinceCollection += job.source.byteLength;
    if (sourceBytesSinceCollection >= COLLECT_AFTER_SOURCE_BYTES) collectGarbage();
  };

  async function run(job: RenderJob): Promise<JobReply> {
    const { id } = job;
    const checkpoint = deadlineCheckpoint(Date.now() + job.timeoutMs);
    try {
      await ready;
      stallIfMarked(job, init!.stallForTests);
      const r =
        'master' in job
          ? await renderer!.renderFromMaster(fromMessage(job.master), job.variant, { checkpoint })
          : job.keepMaster
            ? await renderer!.renderKeepingMaster(job.source, job.variant, { checkpoint, atMasterScale: job.atMasterScale })
            : await renderer!.render(job.source, job.variant, { checkpoint });
      const { decode, resize, encode, detect } = r.timings;
      const timings = { decode, resize, encode, ...(detect !== undefined ? { detect } : {}) };
      const reply: JobReply = { id, ok: true, body: r.body, width: r.width, height: r.height, timings, ...(r.focal ? { focal: r.focal } : {}) };
      if ('master' in r && r.master) {
        const { image, factor, info } = r.master as Master;
        reply.master = { data: image.data as Uint8ClampedArray, width: image.width, height: image.height, factor, info };
      }
      return reply;
    } catch (err) {
      const e = err as Error & { cause?: unknown };
      const error = isHttpError(err)
        ? { status: err.status, code: err.code, message: err.message, headers: err.headers, cause: e.cause === undefined ? undefined : String(e.cause) }
        : { message: e?.message ?? String(err) };
      return { id, ok: false, error };
    }
  }

  endpoint.listen((message) => {
    if ('init' in message) {
      init = message.init;
      renderer = createJsquashRenderer(init.modules, {
        limits: init.limits,
        collectGarbage,
        keepInstanceBytes: opts.keepInstanceBytes,
        photoWarmUp: opts.photoWarmUp,
        findFocal: opts.findFocal?.(init.modules),
      });
      ready = init.warmUp === false ? Promise.resolve() : renderer.warmUp();
      ready.then(
        () => endpoint.post({ ready: true }),
        (err: unknown) => endpoint.post({ ready: false, message: String(err) }),
      );
      return;
    }
    const job = message.job;
    void run(job).then((reply) => {
      const transfer: Transferable[] = [];
      if (reply.ok) {
        transfer.push(reply.body.buffer as ArrayBuffer);
        // The master is moved, not copied: the scheduler keeps it in a plain ArrayBuffer, which
        // V8 counts towards its collection pressure once dropped. A SharedArrayBuffer is not
        // counted: evicted shared masters stayed resident until some unrelated collection
        // (first-touch probe, 2 threads, 4 in flight: peak RSS 768 MB, 420 MB with no masters).
        const buf = reply.master?.data.buffer;
        if (buf && buf !== reply.body.buffer) transfer.push(buf as ArrayBuffer);
      }
      endpoint.post(reply, transfer);
      // After the reply: the collection is not on the request's path.
      afterJob(job);
    });
  });
}
