/**
 * The Renderer port on worker threads, so renders use every core and never block the event
 * loop that serves cache hits. Each thread owns its codecs (the compiled modules are shared,
 * not recompiled); a job queue feeds idle threads one render at a time (a render is
 * single-threaded WASM, and one at a time bounds memory per thread). Threads are replaced
 * after a large source or `maxRendersPerWorker` renders: WebAssembly memory never shrinks, so
 * recycling is the only way to give a 16 MP decode's peak back.
 *
 * Sources are decoded once: the thread hands back a master (render/master.ts: box-shrunk for
 * large sources, the decoded pixels otherwise), kept here in shared memory for every thread,
 * and later variants of the same source (matched by SHA-256 of its bytes) render from it
 * without decoding. Concurrent first requests for one source wait for the one decode instead
 * of each decoding it.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Limits } from '../../core/config/service-config.js';
import { HttpError } from '../../core/errors.js';
import { type ImageInfo, sniffImage } from '../../core/image/sniff.js';
import type { Renderer, RenderResult } from '../../core/ports.js';
import type { Variant } from '../../core/variant.js';
import type { CodecModules } from '../../render/codec-modules.js';
import { toImageData } from '../../render/image-data.js';
import { type Master, masterFactor, masterServes } from '../../render/master.js';
import type { MasterMessage, WorkerInit, WorkerReply, WorkerRequest } from './render-worker.js';

export interface RenderPoolOptions {
  modules: CodecModules;
  limits?: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'>;
  /** Threads (default: the number of cores). */
  size?: number;
  /** Replace a thread after this many renders (default 500). */
  maxRendersPerWorker?: number;
  /** Replace a thread after it decoded a source of at least this many pixels (default 4 MP). */
  recycleAfterPixels?: number;
  /**
   * Bytes of masters (decoded sources, box-shrunk when large; render/master.ts) kept for all
   * threads, least recently used dropped first (default 96 MB; 0 keeps none).
   */
  masterBytes?: number;
}

export interface RenderPool extends Renderer {
  /** Resolves once every thread has warmed its codecs; rejects if one failed to. */
  warmUp(): Promise<void>;
  close(): Promise<void>;
  stats(): { threads: number; recycled: number; queued: number; masters: number; masterBytes: number; fromMaster: number; largeAtOnce: number };
}

type Rendered = Extract<WorkerReply, { ok: true }>;

interface Job {
  request: DistributiveOmit<WorkerRequest, 'id'>;
  /** Pixels the thread will decode (0 when it renders from a master). */
  pixels: number;
  resolve(r: Rendered): void;
  reject(e: unknown): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface KeptMaster extends Master {
  bytes: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** Warmed up: jobs go only to warm threads, so a replacement booting never holds one up. */
  warm: boolean;
  broken?: Error;
  busy: Job | undefined;
  jobId: number;
  renders: number;
  retire: boolean;
}

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js', import.meta.url);

/**
 * Under tsx (npm start, the bench, vitest) the entry is TypeScript, and a worker inherits
 * neither the parent's module hooks nor, on Node 20, a working `--import tsx`: a small
 * bootstrap registers tsx in the thread first.
 */
function startThread(workerData: WorkerInit): Worker {
  if (!ENTRY.pathname.endsWith('.ts')) return new Worker(ENTRY, { workerData });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

function toError(e: Extract<WorkerReply, { ok: false }>['error']): Error {
  if (e.status !== undefined && e.code !== undefined) {
    const err = new HttpError(e.status, e.code, e.message, e.headers ?? {});
    if (e.cause !== undefined) err.cause = e.cause;
    return err;
  }
  return new Error(`render thread: ${e.message}`);
}

export function createRenderPool(opts: RenderPoolOptions): RenderPool {
  const size = Math.max(1, opts.size ?? availableParallelism());
  const maxRenders = opts.maxRendersPerWorker ?? 500;
  const bigPixels = opts.recycleAfterPixels ?? 4_000_000;
  const init: WorkerInit = { modules: opts.modules, limits: opts.limits };
  const queue: Job[] = [];
  const slots: Slot[] = [];
  const maxMasterBytes = opts.masterBytes ?? 96 * 1024 * 1024;
  const masters = new Map<string, KeptMaster>(); // insertion order = recency
  const pendingMasters = new Map<string, Promise<void>>();
  let masterBytes = 0;
  let fromMaster = 0;
  let largeAtOnce = 0;
  let recycled = 0;
  let closed = false;

  function keepMaster(key: string, m: MasterMessage): void {
    // Shared memory: every later job reads the same pixels without a copy per render.
    const shared = new Uint8ClampedArray(new SharedArrayBuffer(m.data.byteLength));
    shared.set(m.data);
    const kept: KeptMaster = { image: toImageData(shared, m.width, m.height), factor: m.factor, info: m.info, bytes: shared.byteLength };
    if (kept.bytes > maxMasterBytes) return;
    masters.set(key, kept);
    masterBytes += kept.bytes;
    for (const [k, old] of masters) {
      if (masterBytes <= maxMasterBytes) break;
      masters.delete(k);
      masterBytes -= old.bytes;
    }
  }

  const masterBytesOf = (info: Pick<ImageInfo, 'format' | 'width' | 'height'>): number => {
    const k = masterFactor(info);
    return Math.floor(info.width / k) * Math.floor(info.height / k) * 4;
  };

  function enqueue(request: Job['request'], pixels: number): Promise<Rendered> {
    return new Promise<Rendered>((resolve, reject) => {
      queue.push({ request, pixels, resolve, reject });
      pump();
    });
  }

  async function renderKept(source: Uint8Array, variant: Variant, pixels: number): Promise<Rendered> {
    const key = createHash('sha256').update(source).digest('base64');
    for (;;) {
      const kept = masters.get(key);
      if (kept) {
        masters.delete(key); // refresh recency
        masters.set(key, kept);
        if (!masterServes(kept, variant)) return enqueue({ source, keepMaster: false, variant }, pixels);
        fromMaster++;
        const master = { data: kept.image.data, width: kept.image.width, height: kept.image.height, factor: kept.factor, info: kept.info };
        return enqueue({ master, variant }, 0);
      }
      const pending = pendingMasters.get(key);
      if (!pending) break;
      await pending; // the same source is being decoded for its master: wait, then use it
    }
    const job = enqueue({ source, keepMaster: true, variant }, pixels);
    const done = job.then((r) => {
      if (r.master) keepMaster(key, r.master);
      delete r.master;
    });
    pendingMasters.set(key, done.then(() => {}, () => {}).finally(() => pendingMasters.delete(key)));
    await done;
    return job;
  }

  function spawn(): Slot {
    const worker = startThread(init);
    const slot: Slot = { worker, ready: Promise.resolve(), warm: false, busy: undefined, jobId: 0, renders: 0, retire: false };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onFirst = (m: { ready?: boolean; message?: string }) => {
        if (m.ready === true) resolve();
        else reject(new Error(`render thread failed to warm up: ${m.message}`));
      };
      worker.once('message', onFirst);
      worker.once('error', reject);
    });
    slot.ready.then(
      () => {
        slot.warm = true;
        pump();
      },
      (err: unknown) => {
        // Reported by warmUp() at start-up. Later (a replacement that cannot warm up: the
        // binaries changed on disk?) nothing would ever run the queue: fail it loudly.
        slot.broken = err instanceof Error ? err : new Error(String(err));
        if (slots.every((x) => x.broken || x.retire)) for (const job of queue.splice(0)) job.reject(slot.broken);
      },
    );
    worker.on('message', (m: WorkerReply | { ready: boolean }) => {
      if (!('id' in m) || !slot.busy || m.id !== slot.jobId) return;
      const job = slot.busy;
      slot.busy = undefined;
      if (m.ok) job.resolve(m);
      else job.reject(toError(m.error));
      slot.renders++;
      if (slot.renders >= maxRenders || job.pixels >= bigPixels) replace(slot);
      pump();
    });
    worker.on('error', (err) => fail(slot, err));
    worker.on('exit', (code) => {
      if (!slot.retire) fail(slot, new Error(`render thread exited with code ${code}`));
    });
    return slot;
  }

  function fail(slot: Slot, err: unknown): void {
    const job = slot.busy;
    slot.busy = undefined;
    job?.reject(err instanceof Error ? err : new Error(String(err)));
    if (!slot.retire) replace(slot);
    pump();
  }

  function replace(slot: Slot): void {
    slot.retire = true;
    void slot.worker.terminate();
    recycled++;
    const i = slots.indexOf(slot);
    if (i >= 0 && !closed) slots[i] = spawn();
  }

  // One large decode at a time across the threads: each needs ~170 MB at its peak for a
  // 16 MP JPEG (WebAssembly heap plus the JavaScript copy of the pixels), and two at once
  // would double the process's peak. Smaller jobs overtake a waiting large one.
  const bigRunning = () => slots.some((s) => s.busy && s.busy.pixels >= bigPixels);

  function nextJob(): Job | undefined {
    const i = bigRunning() ? queue.findIndex((j) => j.pixels < bigPixels) : 0;
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  }

  function pump(): void {
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.busy || slot.retire || !slot.warm) continue;
      const job = nextJob();
      if (!job) return;
      slot.busy = job;
      largeAtOnce = Math.max(largeAtOnce, slots.filter((x) => x.busy && x.busy.pixels >= bigPixels).length);
      const id = ++slot.jobId;
      // The source is copied (not transferred): the caller's bytes stay valid (the store or a retry may reuse them).
      slot.worker.postMessage({ ...job.request, id } as WorkerRequest);
    }
  }

  for (let i = 0; i < size; i++) slots.push(spawn());

  return {
    async render(source, variant): Promise<RenderResult> {
      if (closed) throw new Error('render pool is closed');
      const broken = slots.find((x) => x.broken);
      if (broken && slots.every((x) => x.broken || x.retire)) throw broken.broken;
      const info = sniffImage(source);
      const pixels = info ? info.width * info.height : 0;
      // Sources the budget cannot hold are rendered plainly, without keeping a master.
      const keep = info !== null && masterBytesOf(info) <= maxMasterBytes;
      const r = keep ? await renderKept(source, variant, pixels) : await enqueue({ source, keepMaster: false, variant }, pixels);
      return { body: r.body, width: r.width, height: r.height, timings: r.timings, ...(r.focal ? { focal: r.focal } : {}) };
    },
    async warmUp() {
      await Promise.all(slots.map((s) => s.ready));
    },
    async close() {
      closed = true;
      masters.clear();
      for (const job of queue.splice(0)) job.reject(new Error('render pool is closed'));
      await Promise.all(slots.map((s) => ((s.retire = true), s.worker.terminate())));
    },
    stats: () => ({ threads: slots.length, recycled, queued: queue.length, masters: masters.size, masterBytes, fromMaster, largeAtOnce }),
  };
}
