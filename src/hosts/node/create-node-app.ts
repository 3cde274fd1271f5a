import { createMemoryCache } from '../../cache/memory-cache.js';
import { createAuthorizer } from '../../core/auth/create-authorizer.js';
import type { ServiceConfig } from '../../core/config/service-config.js';
import type { ObjectStore, Renderer } from '../../core/ports.js';
import { RenderRefused } from '../../core/limits/neighbour-fallback.js';
import { createApp, type App } from '../../http/create-app.js';
import type { ImageLimits } from '../../http/limited-image-route.js';
import { createDemoPage } from '../../http/demo-page.js';
import { createCodecs } from '../../render/codecs.js';
import { createGeneratedFallback } from '../../render/fallback/create-fallback.js';
import { createFsStore } from '../../storage/fs-store.js';
import { type FetchHandler, serve } from './http-adapter.js';
import { createRenderPool, type RenderPoolOptions } from './render-pool.js';
import { loadCodecModules } from './load-wasm.js';
import { nodeHmacSha256Base64url } from '../node-compat/node-crypto-hmac.js';
import { REPO_ROOT } from './repo-root.js';
import { seedSamples } from './seed-samples.js';

export { REPO_ROOT };

export interface NodeAppOptions {
  config: ServiceConfig;
  /** The store; defaults to a directory store at dataDir. */
  store?: ObjectStore;
  dataDir?: string;
  /** Folder of `{tenant}/{id}.{ext}` originals copied into the store at start; null for none. */
  samplesDir?: string | null;
  cacheMaxBytes?: number;
  host?: string;
  port?: number;
  log?: (msg: string, err?: unknown) => void;
  /** Bearer secrets for GET /_render/* (env RENDER_SECRET); no render route when empty. */
  renderSecrets?: readonly string[];
  /** Wraps the renderer (tests count renders with it). */
  wrapRenderer?: (r: Renderer) => Renderer;
  /** Render on this many worker threads (render-pool.ts); 0 or absent renders on the main thread. */
  renderThreads?: number;
  /** The scheduler's budget, deadline and queue (render/scheduler/pool.ts); its defaults when absent. */
  render?: Pick<RenderPoolOptions, 'memoryBytes' | 'timeoutMs' | 'maxQueue' | 'masterBytes' | 'stallForTests' | 'metrics'>;
  /** Per-client and per-tenant render limits (RATE_LIMITS_JSON; http/limited-image-route.ts); none when absent. */
  limits?: ImageLimits;
  /** Wraps the app's handler before it is served (metrics, access log, /readyz: hosts/node/node-ops.ts). */
  wrapFetch?: (fetch: FetchHandler) => FetchHandler;
}

/** Builds the local host: directory store, in-process jsquash renderer, in-memory cache. */
export async function startNodeApp(opts: NodeAppOptions) {
  const store = opts.store ?? createFsStore(opts.dataDir ?? `${REPO_ROOT}.data`);
  const samplesDir = opts.samplesDir === undefined ? `${REPO_ROOT}samples` : opts.samplesDir;
  const seeded = samplesDir ? await seedSamples(store, samplesDir, opts.config.tenants.keys()) : [];

  const modules = await loadCodecModules();
  const limits = opts.config.limits;
  // Worker threads, or the main thread with the same masters, budget, queue and deadlines.
  const pool = createRenderPool({ modules, limits, size: opts.renderThreads ?? 0, log: (msg) => opts.log?.(msg), ...opts.render });
  await pool.warmUp();
  const renderer = opts.wrapRenderer ? opts.wrapRenderer(pool) : pool;
  const cache = createMemoryCache({
    maxBytes: opts.cacheMaxBytes ?? 256 * 1024 * 1024,
    // A refresh the render budget refused keeps the stale copy, as intended: nothing to report.
    onRefreshError: (key, err) => err instanceof RenderRefused || opts.log?.(`refresh of ${key} failed`, err),
  });
  const app: App = createApp({
    config: opts.config,
    store,
    cache,
    renderer,
    // Signed URLs: a synchronous HMAC instead of crypto.subtle's thread-pool round trip.
    authorize: createAuthorizer({ hmac: nodeHmacSha256Base64url }),
    renderSecrets: opts.renderSecrets,
    log: opts.log,
    // The local host's root page and generated avatars for tenants with fallback 'generated'.
    page: createDemoPage({ config: opts.config }),
    fallback: createGeneratedFallback(createCodecs(modules)),
    limits: opts.limits,
  });
  const server = await serve(opts.wrapFetch ? opts.wrapFetch(app.fetch) : app.fetch, { host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const close = async () => {
    await server.close();
    await pool.close();
  };
  return { ...server, close, app, cache, store, renderer, pool, seeded };
}
