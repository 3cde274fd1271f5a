import { Backend } from 'fastly:backend';
import { CacheOverride } from 'fastly:cache-override';
import { ConfigError } from '../../core/config/service-config.js';
import { adminTokenId } from '../../core/admin/admin-auth.js';
import { createAdminService } from '../../core/admin/admin-service.js';
import { createAuthorizer } from '../../core/auth/create-authorizer.js';
import { HttpError } from '../../core/errors.js';
import { type Authorizer, createImageHandler } from '../../core/delivery/image-handler.js';
import { createResolveMemo, type ResolveMemo } from '../../core/request/resolve-memo.js';
import { replicasOf } from '../../core/replicas.js';
import type { ObjectStore, VariantBody, VariantCache, VariantLoader } from '../../core/ports.js';
import type { OriginalFacts } from '../../core/request/negotiate-format.js';
import { createRemoteLoader, type RenderSend } from '../../core/delivery/remote-variant-loader.js';
import { edgeTtl } from '../../core/delivery/response-headers.js';
import { canonicalKey, type Variant } from '../../core/variant.js';
import { createAdminRoutes } from '../../http/admin-routes.js';
import { createRenderRoute } from '../../http/render-route.js';
import { createRouter, firstSegment, type Handler } from '../../http/router.js';
import { createStore } from '../../storage/create-store.js';
import { createS3Store } from '../../storage/s3-store.js';
import { createFactsProbe } from './original-facts-probe.js';
import { type BackendBudget, createBackendBudget, imagesPerCall, reserveForAudit, stageRequests, takedownRequests } from './backend-budget.js';
import { createCoreCache } from './core-cache.js';
import { checkClient, takeRender } from './edge-limits.js';
import { createEdgeCacheCheck } from './edge-verify.js';
import { limitFor } from '../../core/limits/rate-limits.js';
import { createImageOptimizerLoader } from './image-optimizer-loader.js';
import { createFastlyPurger } from './purger.js';
import { type EdgeSettings, loadAdminTokens, loadEdgeSettings, loadEdgeStorage, type SettingsSource } from './settings.js';
import { type BackendHostInfo, s3BackendHostProblem } from './s3-backend-host.js';
import { cpuNow, cpuSince } from './cpu-time.js';
import { createEndpointLog, type LoggedFacts, logged, type RequestLog } from './request-log.js';
import { memoSettings, SETTINGS_MAX_AGE_MS } from './settings-memo.js';
import { rememberedHmac } from './remembered-hmac.js';
import { createStoreSource } from './stores.js';
import { chooseUpstream, type FetchWithBackend, type Upstream } from './upstream.js';
import { hostLog } from '../../observability/host-log.js';
import { isPromise, type MaybePromise } from '../../core/maybe-promise.js';

export interface FastlyServiceDeps {
  /** Config + secrets; defaults to the Config Store and Secret Store (stores.ts). */
  source?: () => SettingsSource;
  /** `fetch` with Fastly's `backend` option; the global one by default (tests record calls). */
  fetch?: FetchWithBackend;
  log?: (msg: string, err?: unknown) => void;
  /** One structured line per request; fastly:logger's LOG_ENDPOINT by default (request-log.ts). */
  requestLog?: RequestLog;
  /** How long a sandbox reuses the settings it read (settings-memo.ts); 0 reads them on every request. */
  settingsMaxAgeMs?: number;
  /** Wall clock for that (Date.now by default). */
  now?: () => number;
}

export interface RequestContext {
  /** FetchEvent.waitUntil, for stale-while-revalidate refreshes after the response. */
  waitUntil?: (p: Promise<unknown>) => void;
  /** The client's IP (FetchEvent.client.address), for the per-client rate limit; absent: not limited. */
  clientAddress?: string;
}

/**
 * The Fastly service. The router and the settings (kept SETTINGS_MAX_AGE_MS) live as long as
 * the sandbox, which answers many requests one after another (sandbox-reuse.ts); everything
 * else is composed per request, so nothing a request counts (its backend budget, its Core
 * Cache handle, its vCPU time) carries over to the next:
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
  const log = deps.log ?? hostLog;
  const sandbox: Sandbox = {
    deps,
    log,
    fetchFn: deps.fetch ?? ((input, init) => fetch(input, init)),
    // One authorizer per sandbox: it remembers the HMACs it computed (remembered-hmac.ts).
    authorize: createAuthorizer({ hmac: rememberedHmac() }),
    // And what it decided per URL (request/resolve-memo.ts): a repeated URL skips parsing and the signature check, not its expiry.
    memo: createResolveMemo(),
    readSettings: memoSettings(loadEdgeSettings, { maxAgeMs: deps.settingsMaxAgeMs ?? SETTINGS_MAX_AGE_MS, ...(deps.now ? { now: deps.now } : {}) }),
  };
  const requestLog = deps.requestLog ?? createEndpointLog();
  // The router is built once, here: at build time on Fastly (the Wizer snapshot), so no request
  // pays for compiling its routes. Each request's handlers (which hold that request's settings,
  // cache and backend budget) are found by the request object itself.
  const current = new WeakMap<Request, EdgeRequest>();
  const routeTo =
    (name: 'image' | 'render' | 'admin'): Handler =>
    (req) => {
      const h = current.get(req);
      if (!h) throw new Error(`no handlers registered for this request (${name})`);
      return h[name](req);
    };
  const router = createRouter({
    image: routeTo('image'),
    render: routeTo('render'),
    admin: routeTo('admin'),
    onError: (err, req) => log(`unhandled error on ${req.method} ${new URL(req.url).pathname}`, err),
  });

  // Not async: a warm HIT is answered without waiting a turn of the event loop (core/maybe-promise.ts).
  return function handle(request: Request, ctx: RequestContext = {}): MaybePromise<Response> {
    try {
      // In a reused sandbox vCpuTime() counts from the sandbox's start: this request's share is the difference.
      const r = new EdgeRequest(sandbox, request, ctx, { cpuStart: cpuNow() });
      current.set(request, r);
      return logged(request, () => router(request), requestLog, r.facts);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/** What the service keeps for the sandbox's life and hands to each of its requests. */
interface Sandbox {
  deps: FastlyServiceDeps;
  log: (msg: string, err?: unknown) => void;
  fetchFn: FetchWithBackend;
  authorize: Authorizer;
  memo: ResolveMemo;
  /** Read once per request; in hand (not a Promise) when the sandbox holds them (settings-memo.ts). */
  readSettings: (src: () => SettingsSource) => MaybePromise<EdgeSettings>;
}

/**
 * One request's wiring: its stores, settings, backend budget, Core Cache handle and loaders,
 * each made on first use and kept for the request only. A class, not closures: a warm HIT
 * makes one object here and asks for its settings and cache, instead of making a dozen
 * functions for the miss, shield and admin paths it never takes.
 */
class EdgeRequest {
  private sourceMade?: SettingsSource;
  private settingsMade?: MaybePromise<EdgeSettings>;
  private budgetMade?: Promise<BackendBudget>;
  private countedMade?: FetchWithBackend;
  // Made once settings are known: the stale-if-error window is the config's cache.edgeStaleIfError.
  private coreCache?: VariantCache;
  private bucketMade?: Promise<ObjectStore | null>;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly request: Request,
    private readonly ctx: RequestContext,
    readonly facts: LoggedFacts,
  ) {}

  /** The stores, opened on first use (a warm HIT has its settings in hand and opens none). */
  private source(): SettingsSource {
    return (this.sourceMade ??= (this.sandbox.deps.source ?? createStoreSource)());
  }

  private settings(): MaybePromise<EdgeSettings> {
    return (this.settingsMade ??= this.sandbox.readSettings(() => this.source()));
  }

  /** Every backend request of this execution is counted against the platform's limit. */
  private budget(): Promise<BackendBudget> {
    return (this.budgetMade ??= this.openBudget());
  }

  private async openBudget(): Promise<BackendBudget> {
    return createBackendBudget(this.sandbox.fetchFn, (await this.settings()).backendRequestLimit);
  }

  private counted(): FetchWithBackend {
    return (this.countedMade ??= async (input, init) => (await this.budget()).fetch(input, init));
  }

  private cacheFor(s: EdgeSettings): VariantCache {
    const { ctx, sandbox } = this;
    return (this.coreCache ??= createCoreCache(
      ctx.waitUntil ? { waitUntil: ctx.waitUntil, log: sandbox.log, staleIfError: s.config.cache.edgeStaleIfError } : { log: sandbox.log, staleIfError: s.config.cache.edgeStaleIfError },
    ));
  }

  private bucket(): Promise<ObjectStore | null> {
    return (this.bucketMade ??= this.openBucket());
  }

  private async openBucket(): Promise<ObjectStore | null> {
    const [s, cfg] = await Promise.all([this.settings(), loadEdgeStorage(this.source())]);
    if (!cfg) return null;
    const problems = [hostProblem('S3_', cfg.primary, s.storeBackend), cfg.secondary ? hostProblem('S3_SECONDARY_', cfg.secondary, s.storeSecondaryBackend) : null].filter(
      (p): p is string => p !== null,
    );
    if (problems.length) throw new ConfigError(problems);
    const counted = this.counted();
    const { log } = this.sandbox;
    return createStore(cfg, {
      fetch: { primary: pinned(s.storeBackend, counted), secondary: pinned(s.storeSecondaryBackend, counted) },
      onFailover: (op, key, err) => log(`storage ${op} ${key} failed over to the secondary`, err),
    });
  }

  /** The miss path: the renderer (directly or through the shield POP), or Image Optimizer. */
  private async loaderFor(s: EdgeSettings, asShield: boolean): Promise<VariantLoader> {
    const policy = s.config.cache;
    const counted = this.counted();
    const { log } = this.sandbox;
    // Asked only for fmt=auto without WebP, or with AVIF and WebP: the edge cache first, the bucket on a miss.
    const facts = createFactsProbe(() => this.bucket(), { ttl: policy.edgeTtl, swr: policy.edgeSwr });
    if (s.renderMode === 'image-optimizer' && !asShield) {
      const [store, cfg] = await Promise.all([this.bucket(), loadEdgeStorage(this.source())]);
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
        facts,
      });
    }
    // Chosen on the first miss only: a hit never touches shielding.
    let upstream: Upstream | undefined;
    // The render budget refusal of a shield fallback, thrown from inside `send` (which the remote loader reports as unreachable).
    let refused: unknown;
    const renderBudget = (v: Variant) => takeRender(v.tenant, limitFor(s.rateLimits, v.tenant));
    const request = this.request;
    const upstreamNow = () =>
      (upstream ??= chooseUpstream({
        rendererBackend: s.rendererBackend,
        shieldPop: s.shieldPop,
        asShield,
        // Only a miss through the shield needs it: a hit does not parse the URL for it.
        serviceOrigin: new URL(request.url).origin,
        fetch: counted,
        log,
        beforeDirect: (v) => {
          try {
            renderBudget(v);
          } catch (err) {
            refused = err;
            throw err;
          }
        },
      }));
    const send: RenderSend = (r, v) => upstreamNow().send(r, v);
    const remote = createRemoteLoader({ config: s.config, send, secret: s.renderSecrets[0]!, facts });
    return {
      async load(v) {
        // Renders this POP asks the renderer for count against the tenant's budget; the shield POP counts its own.
        if (upstreamNow().via !== 'shield') renderBudget(v);
        try {
          return await remote.load(v);
        } catch (err) {
          throw refused ?? err;
        }
      },
      facts: remote.facts,
    };
  }

  // This and imageWith's last line are core/maybe-promise.ts `andThen` written out: a warm HIT
  // takes the in-hand branch and so makes no closure for the Promise one (each costs the
  // interpreter per request: docs/fastly.md, "CPU per request").
  image(req: Request): MaybePromise<Response> {
    const s = this.settings();
    return isPromise(s) ? s.then((v) => this.imageWith(v, req)) : this.imageWith(s, req);
  }

  private imageWith(s: EdgeSettings, req: Request): MaybePromise<Response> {
    const tenant = firstSegment(req.url);
    checkClient(tenant, this.ctx.clientAddress, limitFor(s.rateLimits, tenant));
    const facts = this.facts;
    const res = createImageHandler({
      config: s.config,
      cache: this.cacheFor(s),
      // A hit never asks the loader: it is made on first use (a miss, or fmt=auto asking for the original's facts).
      loader: new LazyLoader(() => this.loaderFor(s, false)),
      authorize: this.sandbox.authorize,
      memo: this.sandbox.memo,
      onAnswer: (timings, headers) => {
        facts.timings = timings;
        facts.headers = headers;
      },
    })(req);
    return isPromise(res) ? res.then((r) => withCpuTiming(r, facts.cpuStart)) : withCpuTiming(res, facts.cpuStart);
  }

  // Shield role: answers other POPs' misses from this POP's cache (same key, so the shield
  // POP's own clients and every edge share one copy), then asks the renderer.
  async render(req: Request): Promise<Response> {
    const s = await this.settings();
    if (!s.renderSecrets.length) throw new HttpError(404, 'NOT_FOUND', 'not found');
    const remote = await this.loaderFor(s, true);
    const cache = this.cacheFor(s);
    const loader: VariantLoader = {
      async load(v) {
        const tenant = s.config.tenants.get(v.tenant)!;
        return (await cache.getOrLoad(canonicalKey(v), () => remote.load(v), edgeTtl(tenant, s.config.cache))).value;
      },
      facts: remote.facts,
    };
    return createRenderRoute({ config: s.config, loader, secrets: s.renderSecrets })(req);
  }

  async admin(req: Request): Promise<Response | undefined> {
    const [s, tokens, bare, b] = await Promise.all([this.settings(), loadAdminTokens(this.source()), this.bucket(), this.budget()]);
    const store = bare && reserveForAudit(bare, b);
    if (!store) {
      // Every admin operation ends with an audit entry in the bucket: without one, refuse, but
      // only after the token check, so unauthenticated callers still learn nothing.
      if (!(await adminTokenId(req.headers.get('authorization'), tokens))) throw new HttpError(401, 'UNAUTHORIZED', 'unauthorized', { 'www-authenticate': 'Bearer' });
      throw new HttpError(503, 'ADMIN_UNAVAILABLE', 'the admin API needs the bucket (STORAGE=s3) for its audit log');
    }
    // A takedown works on every store that can serve the image (primary and secondary). When
    // one image does not fit one execution, each call does one stage of it (backend-budget.ts).
    const stores = replicasOf(store).length;
    const split = s.backendRequestLimit < takedownRequests(stores);
    const needed = stageRequests(stores);
    if (split && s.backendRequestLimit < needed) {
      // Repeating would not help: every call does the same work. Say what would.
      b.setHint(
        `a takedown on ${stores} stores needs at least ${needed} backend requests per execution (in two calls): set BACKEND_REQUEST_LIMIT to ${needed} or more (Fastly allows 32 on paid accounts)`,
      );
    }
    const service = createAdminService({
      store,
      purger: createFastlyPurger(),
      config: s.config,
      // Takedowns are verified by Core Cache lookups (not backend requests) plus the store
      // check; the admin CLI then requests the public URLs from outside.
      cached: createEdgeCacheCheck(s.config),
      maxImagesPerCall: split ? 1 : imagesPerCall(s.backendRequestLimit, stores),
      splitRemoval: split,
    });
    return createAdminRoutes({ service, tokens })(req);
  }
}

/** The image route's loader, made on its first use (a hit never uses it). */
class LazyLoader implements VariantLoader {
  private made?: Promise<VariantLoader>;
  constructor(private readonly make: () => Promise<VariantLoader>) {}
  async load(v: Variant, o?: Parameters<VariantLoader['load']>[1]): Promise<VariantBody> {
    return (await (this.made ??= this.make())).load(v, o);
  }
  async facts(tenant: string, id: string): Promise<OriginalFacts> {
    return (await (this.made ??= this.make())).facts(tenant, id);
  }
}

/** The request's CPU time so far (the budget is 50 ms per request), next to the pipeline's own timings. */
function withCpuTiming(res: Response, cpuStart: number | undefined): Response {
  const cpu = cpuSince(cpuStart);
  // A runtime without vCpuTime: the timing is diagnostics only.
  if (cpu !== undefined) res.headers.append('server-timing', `cpu;dur=${cpu}`);
  return res;
}

/** The backend's Host and the S3 signature's host must agree (s3-backend-host.ts); a backend the runtime cannot describe is not checked. */
function hostProblem(prefix: string, cfg: Parameters<typeof s3BackendHostProblem>[1], backendName: string): string | null {
  let info: BackendHostInfo;
  try {
    const b = Backend.fromName(backendName);
    info = { target: b.target, hostOverride: b.hostOverride };
  } catch {
    return null;
  }
  return s3BackendHostProblem(prefix, cfg, backendName, info);
}

function pinned(backend: string, fetchFn: FetchWithBackend) {
  return (r: Request) => fetchFn(r, { backend, cacheOverride: new CacheOverride('pass') } as RequestInit);
}
