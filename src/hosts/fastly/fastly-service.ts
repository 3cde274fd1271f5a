import { CacheOverride } from 'fastly:cache-override';
import { vCpuTime } from 'fastly:compute';
import { adminTokenId } from '../../core/admin/admin-auth.js';
import { createAdminService } from '../../core/admin/admin-service.js';
import { createAuthorizer } from '../../core/auth/create-authorizer.js';
import { HttpError } from '../../core/errors.js';
import { createImageHandler } from '../../core/image-handler.js';
import { replicasOf } from '../../core/replicas.js';
import type { ObjectStore, VariantLoader } from '../../core/ports.js';
import { createRemoteLoader, type RenderSend } from '../../core/remote-variant-loader.js';
import { edgeTtl } from '../../core/response-headers.js';
import { canonicalKey } from '../../core/variant.js';
import { createAdminRoutes } from '../../http/admin-routes.js';
import { createRenderRoute } from '../../http/render-route.js';
import { createRouter, type Handler } from '../../http/router.js';
import { createStore } from '../../storage/create-store.js';
import { createS3Store } from '../../storage/s3-store.js';
import { createAlphaProbe } from './alpha-probe.js';
import { createBackendBudget, imagesPerCall, reserveForAudit, takedownRequests } from './backend-budget.js';
import { createCoreCache } from './core-cache.js';
import { createEdgeCacheCheck } from './edge-verify.js';
import { createImageOptimizerLoader } from './image-optimizer-loader.js';
import { createFastlyPurger } from './purger.js';
import { type EdgeSettings, loadAdminTokens, loadEdgeSettings, loadEdgeStorage, type SettingsSource } from './settings.js';
import { createStoreSource } from './stores.js';
import { chooseUpstream, type FetchWithBackend, type Upstream } from './upstream.js';

export interface FastlyServiceDeps {
  /** Config + secrets; defaults to the Config Store and Secret Store (stores.ts). */
  source?: () => SettingsSource;
  /** `fetch` with Fastly's `backend` option; the global one by default (tests record calls). */
  fetch?: FetchWithBackend;
  log?: (msg: string, err?: unknown) => void;
}

export interface RequestContext {
  /** FetchEvent.waitUntil, for stale-while-revalidate refreshes after the response. */
  waitUntil?: (p: Promise<unknown>) => void;
}

/**
 * The Fastly service, composed per request (Compute runs each request in a fresh instance):
 *
 *   GET/HEAD /{tenant}/{id}…  edge role: parse → canonicalize → sign/hotlink → Core Cache by
 *                             canonical key → miss: renderer (or the shield POP, or Image
 *                             Optimizer) → browser headers, ETag/304, Vary, Surrogate-Key
 *   GET /_render/*            shield role: what other POPs call on a miss; same cache, then
 *                             the renderer (bearer RENDER_SECRET, like the renderer itself)
 *   /_admin/*                 the admin API; purges go to purgeSurrogateKey, takedowns are
 *                             checked in Core Cache; at most BACKEND_REQUEST_LIMIT backend
 *                             requests per execution (backend-budget.ts)
 *
 * Everything here is wiring: the pipeline, routes and admin operations are the core's.
 */
export function createFastlyService(deps: FastlyServiceDeps = {}) {
  const log = deps.log ?? ((msg: string, err?: unknown) => console.error(`[avatar-edge] ${msg}`, err instanceof Error ? err.message : (err ?? '')));
  const fetchFn: FetchWithBackend = deps.fetch ?? ((input, init) => fetch(input, init));

  return async function handle(request: Request, ctx: RequestContext = {}): Promise<Response> {
    const source = (deps.source ?? createStoreSource)();
    const serviceOrigin = new URL(request.url).origin;
    const settings = once(() => loadEdgeSettings(source));
    // Every backend request of this execution is counted against the platform's limit.
    const budget = once(async () => createBackendBudget(fetchFn, (await settings()).backendRequestLimit));
    const counted: FetchWithBackend = async (input, init) => (await budget()).fetch(input, init);
    const cache = createCoreCache({ ...(ctx.waitUntil ? { waitUntil: ctx.waitUntil } : {}), log });
    const bucket = once(async (): Promise<ObjectStore | null> => {
      const [s, cfg] = await Promise.all([settings(), loadEdgeStorage(source)]);
      if (!cfg) return null;
      return createStore(cfg, {
        fetch: { primary: pinned(s.storeBackend, counted), secondary: pinned(s.storeSecondaryBackend, counted) },
        onFailover: (op, key, err) => log(`storage ${op} ${key} failed over to the secondary`, err),
      });
    });

    /** The miss path: the renderer (directly or through the shield POP), or Image Optimizer. */
    async function loaderFor(s: EdgeSettings, asShield: boolean): Promise<VariantLoader> {
      const policy = s.config.cache;
      // Read the bucket only when asked (fmt=auto without WebP): most requests never need it.
      // Without a bucket the answer is "alpha": PNG keeps transparency right, at more bytes.
      const hasAlpha = async (tenant: string, id: string): Promise<boolean> => {
        const store = await bucket();
        return store ? createAlphaProbe(store, cache, { ttl: policy.edgeTtl, swr: policy.edgeSwr })(tenant, id) : true;
      };
      if (s.renderMode === 'image-optimizer' && !asShield) {
        const [store, cfg] = await Promise.all([bucket(), loadEdgeStorage(source)]);
        if (!store || !cfg) throw new HttpError(503, 'MISCONFIGURED', 'image-optimizer mode needs STORAGE=s3');
        return createImageOptimizerLoader({
          config: s.config,
          store,
          storeWith: (imageOptimizerOptions) =>
            createS3Store({
              ...cfg.primary,
              fetch: (r) => counted(r, { backend: s.storeBackend, cacheOverride: new CacheOverride('pass'), imageOptimizerOptions } as RequestInit),
            }),
          region: s.imageOptimizerRegion!,
          hasAlpha,
        });
      }
      // Chosen on the first miss only: a hit never touches shielding.
      let upstream: Upstream | undefined;
      const send: RenderSend = (r, v) => (upstream ??= chooseUpstream({ rendererBackend: s.rendererBackend, shieldPop: s.shieldPop, asShield, serviceOrigin, fetch: counted, log })).send(r, v);
      return createRemoteLoader({ config: s.config, send, secret: s.renderSecrets[0]!, hasAlpha });
    }

    const image = async (req: Request): Promise<Response> => {
      const s = await settings();
      const loader = await loaderFor(s, false);
      const res = await createImageHandler({ config: s.config, cache, loader, authorize: createAuthorizer() })(req);
      return withCpuTiming(res);
    };

    // Shield role: answers other POPs' misses from this POP's cache (same key, so the shield
    // POP's own clients and every edge share one copy), then asks the renderer.
    const render = async (req: Request): Promise<Response> => {
      const s = await settings();
      if (!s.renderSecrets.length) throw new HttpError(404, 'NOT_FOUND', 'not found');
      const remote = await loaderFor(s, true);
      const loader: VariantLoader = {
        async load(v) {
          const tenant = s.config.tenants.get(v.tenant)!;
          return (await cache.getOrLoad(canonicalKey(v), () => remote.load(v), edgeTtl(tenant, s.config.cache))).value;
        },
        hasAlpha: remote.hasAlpha,
      };
      return createRenderRoute({ config: s.config, loader, secrets: s.renderSecrets })(req);
    };

    const admin: Handler = async (req) => {
      const [s, tokens, bare, b] = await Promise.all([settings(), loadAdminTokens(source), bucket(), budget()]);
      const store = bare && reserveForAudit(bare, b);
      if (!store) {
        // Every admin operation ends with an audit entry in the bucket: without one, refuse, but
        // only after the token check, so unauthenticated callers still learn nothing.
        if (!(await adminTokenId(req.headers.get('authorization'), tokens))) throw new HttpError(401, 'UNAUTHORIZED', 'unauthorized', { 'www-authenticate': 'Bearer' });
        throw new HttpError(503, 'ADMIN_UNAVAILABLE', 'the admin API needs the bucket (STORAGE=s3) for its audit log');
      }
      // A takedown works on every store that can serve the image (primary and secondary).
      const stores = replicasOf(store).length;
      const needed = takedownRequests(stores);
      if (s.backendRequestLimit < needed) {
        // Repeating would not help: every call does the same work. Say what would.
        b.setHint(`a takedown on ${stores} stores needs ${needed} backend requests per execution: set BACKEND_REQUEST_LIMIT to ${needed} or more (Fastly allows 32 on paid accounts)`);
      }
      const service = createAdminService({
        store,
        purger: createFastlyPurger(),
        config: s.config,
        // Takedowns are verified by Core Cache lookups (not backend requests) plus the store
        // check; the admin CLI then requests the public URLs from outside.
        cached: createEdgeCacheCheck(s.config),
        maxImagesPerCall: imagesPerCall(s.backendRequestLimit, stores),
      });
      return createAdminRoutes({ service, tokens })(req);
    };

    const router = createRouter({ image, render, admin, onError: (err, req) => log(`unhandled error on ${req.method} ${new URL(req.url).pathname}`, err) });
    return router(request);
  };
}

/** The request's CPU time so far (the budget is 50 ms per request), next to the pipeline's own timings. */
function withCpuTiming(res: Response): Response {
  try {
    res.headers.append('server-timing', `cpu;dur=${vCpuTime()}`);
  } catch {
    // A runtime without vCpuTime: the timing is diagnostics only.
  }
  return res;
}

function pinned(backend: string, fetchFn: FetchWithBackend) {
  return (r: Request) => fetchFn(r, { backend, cacheOverride: new CacheOverride('pass') } as RequestInit);
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
