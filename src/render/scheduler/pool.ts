/**
 * The render scheduler behind both renderer hosts: render threads (thread.ts: worker_threads
 * on Node, Web Workers on Deno, the calling thread where there is no Worker), the masters they
 * share (masters.ts), admission by a memory budget (admission.ts), a bounded queue that sheds
 * load with 503, and a deadline per render (deadline.ts).
 *
 * A source is identified by the SHA-256 of its bytes. Its first render decodes at the scale
 * its variant needs (a 256 px avatar of a 16 MP JPEG: 1/8) and what was decoded is kept as
 * its master; later variants the master serves (master.ts `masterServes`, judged by its actual
 * pixels) render from it without decoding, others decode again and a finer master replaces
 * the coarser. Concurrent first requests for one source wait for the one decode. An animated
 * GIF or WebP asked for as WebP is an animation (animation/): every frame is decoded each
 * time, and it neither uses nor keeps a master.
 *
 * A face/auto cover crop's focal record (core/focal-point.ts) is found by the thread that
 * renders it when the caller sends none; the scheduler remembers it per source, so renders
 * of the same source after it (from its master, or twins that waited on its decode) reuse it
 * instead of detecting again on other pixels, and every size of one photo is cropped alike.
 * The render that finds it decodes no coarser than the detector's input (master.ts
 * `detectionFactor`), and the budget estimate is made for that scale.
 *
 * Threads are replaced after a decode of at least 16 MP (`DEFAULT_RECYCLE_AFTER_PIXELS`) or
 * `maxRendersPerWorker` renders (WebAssembly memory never shrinks: the codecs drop their grown
 * instances, and replacing the thread gives back what is left after the largest), and after a
 * render past its deadline (terminating the thread is the only way to stop a WebAssembly call).
 */
import { LIMIT_DEFAULTS, type Limits } from '../../core/config/service-config.js';
import { HttpError } from '../../core/errors.js';
import { sha256Hex } from '../../core/sha256.js';
import { type FocalRecord, wantsFocal } from '../../core/focal-point.js';
import { checkSourceLimits, type ImageInfo, sniffImage } from '../../core/image/sniff.js';
import type { Renderer, RenderResult } from '../../core/ports.js';
import { NO_RENDER_METRICS, type RenderMetrics } from '../../core/metrics/ports.js';
import type { Variant } from '../../core/variant.js';
import { type AnimationPlan, planAnimation } from '../animation/animation-plan.js';
import type { CodecModules } from '../codec-modules.js';
import { decodesReduced, decodeTraits } from '../decode-peak.js';
import { variantDenominator } from '../jsquash-renderer.js';
import type { ScaleDenominator } from '../jpeg-scaled.js';
import { masterFactor, masterServes } from '../master.js';
import { DETECTOR_MEMORY_BYTES, masterRenderBytes, renderPeakBytes, renderTooLargeForMemory, sourceTooLargeForMemory } from '../render-memory.js';
import { createBudget, renderQueueFull } from './admission.js';
import { createTimeoutMemory, RENDER_TIMEOUT, renderTimeout } from './deadline.js';
import { createMasterStore } from './masters.js';
import type { JobReply, RenderJob, ThreadInit, ThreadReply } from './protocol.js';
import type { RenderThread, StartThread } from './thread.js';

const MiB = 1024 * 1024;

/** Decoded pixels in flight plus masters: with ~130 MB for the process and two threads, under ~384 MB RSS. */
export const DEFAULT_RENDER_MEMORY_BYTES = LIMIT_DEFAULTS.renderMemoryBytes;
export const DEFAULT_RENDER_TIMEOUT_MS = 5000;
/**
 * A thread is replaced after decoding this many pixels at once. Below it, the codecs give
 * memory back themselves (decoders over 16 MB dropped and collected after their decode,
 * wasm-decoder.ts, codecs.ts), and a replacement costs ~350 ms of CPU to boot: at 4 MP, the
 * first-touch probe (Node host, 100 originals, 4 in flight) spent 203–248 ms of CPU per
 * request against 184–198 ms at 16 MP, with peak RSS 482–492 MB against 442–475 MB.
 */
export const DEFAULT_RECYCLE_AFTER_PIXELS = 16_000_000;
/**
 * For threads that cannot run a collection themselves (Deno's Web Workers have no `gc`): their
 * dropped decoder instances wait for V8, and replacing the thread after every 4 MP decode is
 * what gives that memory back (first-touch probe, Deno host: peak 820–970 MB at 16 MP).
 */
export const RECYCLE_AFTER_PIXELS_UNCOLLECTED = 4_000_000;
/**
 * Masters kept by default: a quarter of the budget, at most 32 MiB (~10 masters of phone
 * photos). A master pays off when the same photo is asked for in another size soon after
 * (a page of sizes, an upload's precompute), which an LRU this size covers; under first-touch
 * traffic (100 originals, each asked for once, 4 in flight) every master is kept and none is
 * reused, and keeping up to 96 MiB of them raised the Node host's peak RSS from 368–388 MB
 * (none kept) to 444–481 MB. RENDER_MASTERS_MB sets it.
 */
export function defaultMasterBytes(memoryBytes: number): number {
  return Math.min(32 * MiB, Math.floor(memoryBytes / 4));
}
/** Renders waiting for a thread, per thread. */
export const DEFAULT_QUEUE_PER_THREAD = 4;
/** How long a source that timed out answers RENDER_TIMEOUT at once. */
export const TIMEOUT_MEMORY_MS = 10 * 60 * 1000;
const TIMEOUT_MEMORY_ENTRIES = 10_000;
/**
 * Added to the deadline of a render that will find a focal point on a thread that has not
 * loaded the face detector yet: the one-time load (reading the 190 KB of weights and
 * instantiating the face kernel: 37–62 ms on the 2-core machine at a load average of 11; it was
 * 0.3 to over 5 s with TensorFlow.js) is not the source's doing, and must not get a photo
 * stopped and refused as hostile. Detection itself works on at most 320 × 960 px
 * (focal/find-focal.ts), whatever the source, and stays inside the deadline.
 */
export const DETECTOR_LOAD_ALLOWANCE_MS = 2_000;
/** Focal records remembered by source (about 100 bytes each); the store keeps them for good. */
const FOCAL_MEMORY_ENTRIES = 10_000;
/** A job the budget cannot take yet lets this many later (smaller) jobs pass, then waits for room. */
const MAX_OVERTAKES = 8;

export interface SchedulerOptions {
  modules: CodecModules;
  /** Starts one render thread (the scheduler sends it the modules and limits). */
  startThread: StartThread;
  /** Source limits; `renderMemoryBytes` is the memory budget unless `memoryBytes` overrides it. */
  limits?: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'> & Partial<Pick<Limits, 'renderMemoryBytes'>>;
  /** Threads (default 1). */
  size?: number;
  /** Replace a thread after this many renders (default 500). */
  maxRendersPerWorker?: number;
  /** Replace a thread after it decoded at least this many pixels (default 16 MP). */
  recycleAfterPixels?: number;
  /**
   * The memory budget: estimated bytes of renders in flight plus masters (render-memory.ts);
   * default `limits.renderMemoryBytes`, else 224 MiB. The threads refuse sources by the same budget.
   */
  memoryBytes?: number;
  /** At most this many bytes of masters (default `defaultMasterBytes(memoryBytes)`; 0 keeps none). */
  masterBytes?: number;
  /** A render running longer is stopped and answered 422 RENDER_TIMEOUT (default 5000). */
  timeoutMs?: number;
  /** Renders that may wait for a thread or for memory; more are answered 503 (default 4 per thread). */
  maxQueue?: number;
  /** How long a source that timed out is refused at once (default 10 min). */
  timeoutMemoryMs?: number;
  /** Tests only: see ThreadInit.stallForTests. */
  stallForTests?: ThreadInit['stallForTests'];
  /** Queue depth, budget in use, refusals and masters, for the host's metrics (core/metrics/ports.ts). */
  metrics?: RenderMetrics;
  /** Reports renders stopped at their deadline (operators want to know about hostile sources). */
  log?: (msg: string) => void;
  /**
   * The source's key for masters, twins and remembered timeouts: its SHA-256 in hex (default
   * Web Crypto's, core/sha256.ts). A host with a cheaper one of the same digest passes it
   * (hosts/node-compat/node-crypto-sha256.ts: node:crypto, no copy of the source).
   */
  sourceKey?: (source: Uint8Array) => string | Promise<string>;
}

export interface SchedulerStats {
  threads: number;
  /** Threads replaced (recycled after large decodes or many renders, or after a timeout). */
  recycled: number;
  queued: number;
  running: number;
  masters: number;
  masterBytes: number;
  fromMaster: number;
  /** Estimated bytes reserved by running renders, and the most reserved at once. */
  inflightBytes: number;
  peakInflightBytes: number;
  /** Most renders decoding at least `recycleAfterPixels` at once. */
  largeAtOnce: number;
  timedOut: number;
  /** Renders answered 503 because the queue was full. */
  shed: number;
}

export interface RenderScheduler extends Renderer {
  /** Resolves once every thread has warmed its codecs; rejects if one failed to. */
  warmUp(): Promise<void>;
  close(): Promise<void>;
  stats(): SchedulerStats;
  readonly memoryBytes: number;
  readonly timeoutMs: number;
  readonly maxQueue: number;
  /** Renders on the calling thread (inline-thread.ts): no render can be stopped mid-call. */
  readonly inProcess: boolean;
}

type Rendered = Extract<JobReply, { ok: true }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Job {
  request: DistributiveOmit<RenderJob, 'id' | 'timeoutMs'>;
  key: string;
  /** Reserved from the budget while it runs. */
  bytes: number;
  /** Pixels the thread will decode (0 when it renders from a master). */
  pixels: number;
  /** The source may move to the thread instead of a copy (render's `handOver`). */
  handOver: boolean;
  overtaken: number;
  resolve(r: Rendered): void;
  reject(e: unknown): void;
}

interface Slot {
  thread: RenderThread;
  ready: Promise<void>;
  /** Warmed up: jobs go only to warm threads, so a replacement booting never holds one up. */
  warm: boolean;
  broken?: Error;
  busy: Job | undefined;
  jobId: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  renders: number;
  retire: boolean;
  /** The thread has found a focal point (so its face detector is loaded, or failed to load). */
  detector: boolean;
  /** Reserved from the budget for the thread's face detector, from its first detecting job until the thread is gone. */
  detectorBytes: number;
}

function toError(e: Extract<JobReply, { ok: false }>['error']): Error {
  if (e.status !== undefined && e.code !== undefined) {
    const err = new HttpError(e.status, e.code, e.message, e.headers ?? {});
    if (e.cause !== undefined) err.cause = e.cause;
    return err;
  }
  return new Error(`render thread: ${e.message}`);
}

export function createRenderScheduler(opts: SchedulerOptions): RenderScheduler {
  const size = Math.max(1, opts.size ?? 1);
  const maxRenders = opts.maxRendersPerWorker ?? 500;
  const bigPixels = opts.recycleAfterPixels ?? DEFAULT_RECYCLE_AFTER_PIXELS;
  const memoryBytes = opts.memoryBytes ?? opts.limits?.renderMemoryBytes ?? DEFAULT_RENDER_MEMORY_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS;
  const maxQueue = opts.maxQueue ?? DEFAULT_QUEUE_PER_THREAD * size;
  const limits = opts.limits ?? { maxSourceBytes: Infinity, maxSourcePixels: Infinity };
  // The threads' own check before decoding (decode-source.ts) uses the same budget as admission here.
  const init: ThreadInit = {
    modules: opts.modules,
    limits: { ...(opts.limits ?? LIMIT_DEFAULTS), renderMemoryBytes: memoryBytes },
    ...(opts.stallForTests ? { stallForTests: opts.stallForTests } : {}),
  };
  const masters = createMasterStore(opts.masterBytes ?? defaultMasterBytes(memoryBytes));
  const keepMasters = (opts.masterBytes ?? 1) > 0;
  const budget = createBudget(memoryBytes, masters);
  const timeouts = createTimeoutMemory(opts.timeoutMemoryMs ?? TIMEOUT_MEMORY_MS, TIMEOUT_MEMORY_ENTRIES);
  const pendingDecodes = new Map<string, Promise<void>>();
  const focals = createFocalMemory(FOCAL_MEMORY_ENTRIES);
  const queue: Job[] = [];
  const slots: Slot[] = [];
  const counters = { recycled: 0, fromMaster: 0, peakInflightBytes: 0, largeAtOnce: 0, timedOut: 0, shed: 0 };
  let closed = false;
  /** The inline thread's detector is the process's (hosts/node/render-pool.ts): loaded once, kept by every replacement. */
  let inlineDetector = false;
  /** Detector bytes of threads being replaced to make room: they come back once those are gone. */
  let detectorBytesFreeing = 0;
  const metrics = opts.metrics ?? NO_RENDER_METRICS;
  const sourceKey = opts.sourceKey ?? sha256Hex;
  metrics.memoryBudget(memoryBytes);
  /** Queue depth and budget in use, after anything that changes them. */
  const report = (): void => {
    metrics.queueDepth(queue.length);
    metrics.memoryInUse(budget.inflight);
  };

  function enqueue(request: Job['request'], key: string, bytes: number, pixels: number, handOver = false): Promise<Rendered> {
    return new Promise<Rendered>((resolve, reject) => {
      const job: Job = { request, key, bytes, pixels, handOver, overtaken: 0, resolve, reject };
      queue.push(job);
      pump();
      if (queue.length > maxQueue && queue.includes(job)) {
        queue.splice(queue.indexOf(job), 1);
        counters.shed++;
        metrics.rejected('queue_full');
        reject(renderQueueFull(1));
      }
    });
  }

  const detects = (job: Job) => wantsFocal(job.request.variant) && !job.request.variant.focal;
  /** Whether another thread holds a detector (or will, for the job it runs): detecting jobs wait for it. */
  const detectorElsewhere = (slot: Slot) => slots.some((s) => s !== slot && !s.retire && !s.broken && s.detectorBytes > 0);

  /**
   * The next job this slot can start within the budget. A job that finds a focal point on a
   * thread without a detector also reserves the detector's memory (DETECTOR_MEMORY_BYTES), held
   * until the thread is replaced; such jobs go to the thread that already holds one when there
   * is one, so one detector serves them all.
   */
  function admit(slot: Slot): Job | undefined {
    for (let i = 0; i < queue.length; i++) {
      const job = queue[i]!;
      const loads = detects(job) && !slot.detector && slot.detectorBytes === 0;
      if (loads && detectorElsewhere(slot)) continue;
      // As much of the detector as the budget can hold beside the job (a job is never made unable to start).
      const extra = loads ? Math.max(0, Math.min(DETECTOR_MEMORY_BYTES, memoryBytes - job.bytes)) : 0;
      if (budget.tryReserve(job.bytes + extra)) {
        if (loads) {
          slot.detectorBytes = extra;
          if (inProcess) inlineDetector = true;
        }
        if (i > 0) queue[0]!.overtaken++;
        queue.splice(i, 1);
        return job;
      }
      if (queue[0]!.overtaken >= MAX_OVERTAKES) break;
    }
    freeIdleDetector();
    return undefined;
  }

  /**
   * When the job at the head cannot start only because idle threads hold detectors, one of
   * them is replaced (its memory comes back when it is gone; the next face crop loads a
   * detector again). The inline thread's detector belongs to the process: never freed.
   */
  function freeIdleDetector(): void {
    const head = queue[0];
    if (!head || inProcess) return;
    const idle = slots.filter((s) => !s.busy && !s.retire && s.detectorBytes > 0);
    const free = memoryBytes - budget.inflight + detectorBytesFreeing;
    if (idle.length === 0 || head.bytes <= free || head.bytes > free + idle.reduce((a, s) => a + s.detectorBytes, 0)) return;
    detectorBytesFreeing += idle[0]!.detectorBytes;
    replace(idle[0]!);
  }

  function pump(): void {
    for (const slot of slots) {
      if (queue.length === 0) break;
      if (slot.busy || slot.retire || !slot.warm) continue;
      const job = admit(slot);
      if (!job) continue;
      dispatch(slot, job);
    }
    report();
  }

  function dispatch(slot: Slot, job: Job): void {
    slot.busy = job;
    const id = ++slot.jobId;
    counters.peakInflightBytes = Math.max(counters.peakInflightBytes, budget.inflight);
    counters.largeAtOnce = Math.max(counters.largeAtOnce, slots.filter((s) => s.busy && s.busy.pixels >= bigPixels).length);
    const deadline = timeoutMs + (detects(job) && !slot.detector ? DETECTOR_LOAD_ALLOWANCE_MS : 0);
    slot.timer = setTimeout(() => onTimeout(slot, id), deadline);
    // A source handed over moves to the thread: no copy on either side, and its memory leaves
    // this thread's heap at once. Otherwise it is copied, and the caller's bytes stay valid.
    const moved = job.handOver && !inProcess ? movableSource(job.request) : undefined;
    slot.thread.post({ job: { ...job.request, id, timeoutMs: deadline } as RenderJob }, moved);
  }

  /** Takes the slot's job off it (timer cleared; its bytes released unless `keepBytes`). */
  function finishJob(slot: Slot, keepBytes = false): Job | undefined {
    const job = slot.busy;
    slot.busy = undefined;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    if (job && !keepBytes) budget.release(job.bytes);
    report();
    return job;
  }

  function onReply(slot: Slot, m: ThreadReply): void {
    if (!('id' in m) || !slot.busy || m.id !== slot.jobId) return;
    // A thread that decoded a large source holds that memory until it is gone: so does the budget.
    const large = slot.busy.pixels >= bigPixels;
    const job = finishJob(slot, large)!;
    if (m.ok && m.timings.detect !== undefined) slot.detector = true;
    if (m.ok) job.resolve(m);
    else {
      if (m.error.code === RENDER_TIMEOUT) {
        timeouts.add(job.key); // the thread's own deadline check caught it between stages
        counters.timedOut++;
      }
      job.reject(toError(m.error));
    }
    slot.renders++;
    if (large) replace(slot, job.bytes);
    else if (slot.renders >= maxRenders) replace(slot);
    pump();
  }

  function onTimeout(slot: Slot, id: number): void {
    if (!slot.busy || slot.jobId !== id) return;
    const job = finishJob(slot, true)!;
    timeouts.add(job.key);
    counters.timedOut++;
    metrics.rejected('timeout');
    job.reject(renderTimeout(timeoutMs));
    replace(slot, job.bytes); // the only way to stop a WebAssembly call that is still running
    opts.log?.(`render of source ${job.key.slice(0, 16)} stopped at its ${timeoutMs} ms deadline; render thread replaced`);
    pump();
  }

  function spawn(replacement = false): Slot {
    const thread = opts.startThread();
    const slot: Slot = { thread, ready: Promise.resolve(), warm: false, busy: undefined, jobId: 0, timer: undefined, renders: 0, retire: false, detector: inlineDetector, detectorBytes: 0 };
    let first: ((m: ThreadReply) => void) | undefined;
    slot.ready = new Promise<void>((resolve, reject) => {
      first = (m) => {
        if (!('ready' in m)) return;
        first = undefined;
        if (m.ready) resolve();
        else reject(new Error(`render thread failed to warm up: ${m.message}`));
      };
      thread.onFailure((err) => (first ? reject(err) : undefined));
    });
    thread.onMessage((m) => (first ? first(m) : onReply(slot, m)));
    thread.onFailure((err) => {
      if (!slot.retire) fail(slot, err);
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
    thread.post({ init: replacement ? { ...init, warmUp: false } : init });
    return slot;
  }

  function fail(slot: Slot, err: unknown): void {
    const job = finishJob(slot);
    job?.reject(err instanceof Error ? err : new Error(String(err)));
    if (!slot.retire) replace(slot);
    pump();
  }

  /** Terminates the slot's thread and starts another; `heldBytes` stay reserved until the old one is gone. */
  function replace(slot: Slot, heldBytes = 0): void {
    slot.retire = true;
    // The detector's memory goes with the thread (the inline thread's stays with the process).
    const detector = inProcess ? 0 : slot.detectorBytes;
    heldBytes += detector;
    slot.detectorBytes = 0;
    void slot.thread.terminate().finally(() => {
      detectorBytesFreeing = Math.max(0, detectorBytesFreeing - detector);
      if (heldBytes === 0) return;
      budget.release(heldBytes);
      pump();
    });
    counters.recycled++;
    const i = slots.indexOf(slot);
    if (i >= 0 && !closed) slots[i] = spawn(true);
  }

  for (let i = 0; i < size; i++) slots.push(spawn());
  const inProcess = slots[0]!.thread.inProcess === true;

  /** A source whose render ran past its deadline lately is refused at once (deadline.ts). */
  function refuseIfTimedOut(key: string): void {
    if (!timeouts.has(key)) return;
    metrics.rejected('timed_out_before');
    throw renderTimeout(timeoutMs);
  }

  async function renderSource(source: Uint8Array, variant: Variant, handOver: boolean): Promise<Rendered> {
    const info = sniffImage(source);
    checkSourceLimits(source, info, limits);
    // The same refusal the thread would make before decoding (render-memory.ts), without queueing.
    const facts = { ...info, ...decodeTraits(source, info) };
    const tooLarge = sourceTooLargeForMemory(facts, memoryBytes, source.byteLength);
    if (tooLarge) {
      metrics.rejected('too_large');
      throw tooLarge;
    }
    let animation: AnimationPlan | undefined;
    try {
      animation = planAnimation(source, info, variant, memoryBytes);
    } catch (err) {
      metrics.rejected('too_large');
      throw err;
    }
    const key = await sourceKey(source);
    if (animation) return renderAnimated(source, info, variant, key, animation, handOver);
    let fellShort = false;
    // What the thread is sent: with the source's focal record when one is known (found by an
    // earlier render, maybe a twin's that was waited on below), so it need not find it again.
    let sent = variant;
    for (;;) {
      refuseIfTimedOut(key);
      sent = focals.onto(key, variant);
      const kept = masters.get(key);
      if (kept && masterServes(kept, sent)) {
        counters.fromMaster++;
        metrics.masterReused();
        const master = { data: kept.image.data as Uint8ClampedArray, width: kept.image.width, height: kept.image.height, factor: kept.factor, info: kept.info };
        return focals.settle(key, variant, sent, enqueue({ master, variant: sent }, key, masterRenderBytes(kept.bytes), 0));
      }
      fellShort ||= kept !== undefined;
      const pending = pendingDecodes.get(key);
      if (!pending) break;
      await pending; // the same source is being decoded: wait, then see whether its master serves
    }
    // First touch: decode at the scale this variant needs, so keeping a master costs the request
    // nothing. A source asked for again, whose master fell short, is decoded at a full master's
    // scale, which then serves its other avatar sizes (an upload's precompute, a page of sizes).
    const atMasterScale = keepMasters && fellShort;
    // A render that must find the focal point decodes no coarser than the detector needs (variantDenominator).
    const forVariant = decodesReduced(facts) ? variantDenominator(info, sent) : 1;
    const denominator = atMasterScale ? (Math.min(forVariant, masterFactor(info)) as ScaleDenominator) : forVariant;
    const bytes = renderPeakBytes(facts, sent, denominator, source.byteLength);
    if (bytes > memoryBytes) {
      metrics.rejected('too_large');
      throw renderTooLargeForMemory(facts, sent, bytes, memoryBytes);
    }
    const pixels = Math.ceil(info.width / denominator) * Math.ceil(info.height / denominator);

    const job = focals.settle(key, variant, sent, enqueue({ source, keepMaster: keepMasters, atMasterScale, variant: sent }, key, bytes, pixels, handOver));
    const done = job.then((r) => {
      if (r.master && masters.offer(key, r.master, budget.makeRoom)) metrics.masterKept();
      delete r.master;
      return r;
    });
    const settled = done.then(
      () => {},
      () => {},
    );
    pendingDecodes.set(
      key,
      settled.finally(() => pendingDecodes.delete(key)),
    );
    return done;
  }

  /**
   * An animated WebP (animation/animation-plan.ts): every frame is decoded, so no master serves
   * it and none is kept (a kept master is one frame: it serves the source's still variants).
   */
  function renderAnimated(source: Uint8Array, info: ImageInfo, variant: Variant, key: string, plan: AnimationPlan, handOver: boolean): Promise<Rendered> {
    refuseIfTimedOut(key);
    const sent = focals.onto(key, variant);
    return focals.settle(key, variant, sent, enqueue({ source, keepMaster: false, variant: sent }, key, plan.bytes, info.width * info.height, handOver));
  }

  return {
    async render(source, variant, opts): Promise<RenderResult> {
      if (closed) throw new Error('render scheduler is closed');
      const broken = slots.find((x) => x.broken);
      if (broken && slots.every((x) => x.broken || x.retire)) throw broken.broken;
      const r = await renderSource(source, variant, opts?.handOver === true);
      return { body: r.body, width: r.width, height: r.height, timings: r.timings, ...(r.focal ? { focal: r.focal } : {}) };
    },
    async warmUp() {
      await Promise.all(slots.map((s) => s.ready));
    },
    async close() {
      closed = true;
      masters.clear();
      for (const job of queue.splice(0)) job.reject(new Error('render scheduler is closed'));
      for (const slot of slots) {
        finishJob(slot)?.reject(new Error('render scheduler is closed'));
        slot.retire = true;
      }
      await Promise.all(slots.map((s) => s.thread.terminate()));
    },
    stats: () => ({
      threads: slots.length,
      recycled: counters.recycled,
      queued: queue.length,
      running: slots.filter((s) => s.busy).length,
      masters: masters.size,
      masterBytes: masters.bytes,
      fromMaster: counters.fromMaster,
      inflightBytes: budget.inflight,
      peakInflightBytes: counters.peakInflightBytes,
      largeAtOnce: counters.largeAtOnce,
      timedOut: counters.timedOut,
      shed: counters.shed,
    }),
    memoryBytes,
    timeoutMs,
    maxQueue,
    inProcess,
  };
}

/** The source's buffer, when the job's view spans all of it and it is not shared: what can be moved to a thread. */
function movableSource(request: Job['request']): ArrayBuffer[] | undefined {
  if (!('source' in request)) return undefined;
  const { buffer, byteOffset, byteLength } = request.source;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength ? [buffer] : undefined;
}

/**
 * Focal records by source key, least recently used dropped first. `onto` gives a face/auto
 * crop sent without one the remembered record; `settle` remembers what a render found, and
 * puts on the reply the record it was rendered with whenever the caller sent none (found now
 * or remembered), so the caller stores it (variant-loader.ts, render-variants.ts): a write
 * only while the store lacks it.
 */
function createFocalMemory(maxEntries: number) {
  const kept = new Map<string, FocalRecord>(); // insertion order = recency
  const remember = (key: string, focal: FocalRecord): void => {
    kept.delete(key);
    kept.set(key, focal);
    if (kept.size > maxEntries) kept.delete(kept.keys().next().value!);
  };
  return {
    onto(key: string, variant: Variant): Variant {
      if (!wantsFocal(variant)) return variant;
      const known = variant.focal ?? kept.get(key);
      if (!known) return variant;
      remember(key, known); // the caller's (stored) record, else the one found before
      return variant.focal ? variant : { ...variant, focal: known };
    },
    async settle(key: string, caller: Variant, sent: Variant, job: Promise<Rendered>): Promise<Rendered> {
      const r = await job;
      if (r.focal) remember(key, r.focal);
      else if (sent.focal && !caller.focal) r.focal = sent.focal;
      return r;
    },
  };
}
