import type { RenderTimings } from '../ports.js';
import type { MetricsRegistry, RenderMetrics } from './ports.js';

/** The cache state a request is counted under; COALESCED waited for another request's load. */
export type RequestCacheLabel = 'HIT' | 'MISS' | 'STALE' | 'COALESCED' | 'NONE';
export type StoreName = 'primary' | 'secondary';
export type StoreOp = 'get' | 'head' | 'put' | 'delete' | 'list';
export type AdminOp = 'purge' | 'takedown' | 'erase' | 'restore';

export interface RequestObservation {
  route: string;
  method: string;
  status: number;
  cache: RequestCacheLabel;
  /** A configured tenant's name, or '' (keeps the label's values bounded). */
  tenant: string;
  seconds: number;
}

/** Every metric the service exposes, by name, over any registry. */
export interface ServiceMetrics {
  request(o: RequestObservation): void;
  inFlight(delta: 1 | -1): void;
  render(timings: RenderTimings): void;
  renderFailed(): void;
  store(store: StoreName, op: StoreOp, seconds: number, ok: boolean): void;
  admin(op: AdminOp, outcome: 'ok' | 'failed' | 'rejected', code: string): void;
  /** A refusal of the in-process limits: 'request' (a client over its rate, 429), 'render' (over the tenant's render budget: a neighbour or 503). */
  rateLimited(scope: 'request' | 'render'): void;
  readonly renderScheduler: RenderMetrics;
  readonly registry: MetricsRegistry;
}

/** Seconds: 1 ms (a cached hit) up to 10 s (a large render on a busy machine). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const STORE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

export function createServiceMetrics(registry: MetricsRegistry): ServiceMetrics {
  const requests = registry.counter({
    name: 'avatar_http_requests_total',
    help: 'HTTP requests by route, method, status, cache state and tenant.',
    labelNames: ['route', 'method', 'status', 'cache', 'tenant'],
  });
  const duration = registry.histogram({
    name: 'avatar_http_request_duration_seconds',
    help: 'Time to the response headers, by route and cache state.',
    labelNames: ['route', 'cache'],
    buckets: LATENCY_BUCKETS,
  });
  const inFlight = registry.gauge({ name: 'avatar_http_requests_in_flight', help: 'Requests being handled now.' });
  const stages = registry.histogram({ name: 'avatar_render_stage_seconds', help: 'Render time per stage (decode, resize, encode).', labelNames: ['stage'], buckets: LATENCY_BUCKETS });
  const renders = registry.counter({ name: 'avatar_renders_total', help: 'Renders by outcome.', labelNames: ['outcome'] });
  const storeOps = registry.histogram({
    name: 'avatar_store_operation_seconds',
    help: 'Store operation latency by store (primary, secondary) and operation.',
    labelNames: ['store', 'op'],
    buckets: STORE_BUCKETS,
  });
  const storeErrors = registry.counter({ name: 'avatar_store_errors_total', help: 'Store operations that failed, by store and operation.', labelNames: ['store', 'op'] });
  const admin = registry.counter({
    name: 'avatar_admin_operations_total',
    help: 'Purges, takedowns, erasures and restores by outcome (ok, failed, rejected) and error code.',
    labelNames: ['op', 'outcome', 'code'],
  });
  const rateLimited = registry.counter({
    name: 'avatar_rate_limited_total',
    help: 'Requests refused by a rate limit: request (a client IP over its rate, 429), render (a render over the tenant budget: a cached neighbour or 503).',
    labelNames: ['scope'],
  });
  const queueDepth = registry.gauge({ name: 'avatar_render_queue_depth', help: 'Render jobs waiting for a render slot.' });
  const rejections = registry.counter({ name: 'avatar_render_rejections_total', help: 'Render jobs the scheduler refused, by reason.', labelNames: ['reason'] });
  const memoryInUse = registry.gauge({ name: 'avatar_render_memory_budget_in_use_bytes', help: 'Render memory budget reserved by running jobs.' });
  const memoryBudget = registry.gauge({ name: 'avatar_render_memory_budget_bytes', help: 'Render memory budget in total.' });
  const masters = registry.counter({ name: 'avatar_render_masters_total', help: 'Decoded masters kept for later renders, and reused by one.', labelNames: ['event'] });
  // Exported at 0 from the start, so a scrape shows every series and rate() has a baseline.
  for (const scope of ['request', 'render']) rateLimited.inc({ scope }, 0);
  for (const event of ['kept', 'reused']) masters.inc({ event }, 0);

  const renderScheduler: RenderMetrics = {
    queueDepth: (n) => queueDepth.set({}, n),
    rejected: (reason) => rejections.inc({ reason }),
    memoryInUse: (bytes) => memoryInUse.set({}, bytes),
    memoryBudget: (bytes) => memoryBudget.set({}, bytes),
    masterKept: () => masters.inc({ event: 'kept' }),
    masterReused: () => masters.inc({ event: 'reused' }),
  };

  return {
    registry,
    renderScheduler,
    request(o) {
      requests.inc({ route: o.route, method: o.method, status: String(o.status), cache: o.cache, tenant: o.tenant });
      duration.observe({ route: o.route, cache: o.cache }, o.seconds);
    },
    inFlight: (delta) => (delta > 0 ? inFlight.inc() : inFlight.dec()),
    render(t) {
      renders.inc({ outcome: 'ok' });
      stages.observe({ stage: 'decode' }, t.decode / 1000);
      stages.observe({ stage: 'resize' }, t.resize / 1000);
      stages.observe({ stage: 'encode' }, t.encode / 1000);
      // Only the render that found an original's focal point (once per original, face/auto crops).
      if (t.detect !== undefined) stages.observe({ stage: 'detect' }, t.detect / 1000);
    },
    renderFailed: () => renders.inc({ outcome: 'error' }),
    store(store, op, seconds, ok) {
      storeOps.observe({ store, op }, seconds);
      if (!ok) storeErrors.inc({ store, op });
    },
    admin: (op, outcome, code) => admin.inc({ op, outcome, code }),
    rateLimited: (scope) => rateLimited.inc({ scope }),
  };
}
