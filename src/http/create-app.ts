import type { ServiceConfig } from '../core/config/service-config.js';
import { createAuthorizer } from '../core/auth/create-authorizer.js';
import { type Authorizer, createImageHandler } from '../core/delivery/image-handler.js';
import type { ObjectStore, Renderer, VariantCache, VariantLoader } from '../core/ports.js';
import { createInFlightRegistry } from '../core/in-flight.js';
import { createStoreLoader } from '../core/delivery/variant-loader.js';
import type { Variant } from '../core/variant.js';
import { createCachePurger, type Purger } from '../core/purge/purger.js';
import { createUploadService } from '../core/upload/upload-service.js';
import type { ConnInfo } from '../core/ports.js';
import { createInProcessAdmin } from './admin-routes.js';
import { budgetedLoader, type ImageLimits, limitedImageRoute, neighbourRecovery } from './limited-image-route.js';
import { createRenderRoute } from './render-route.js';
import { createRouter, type Handler } from './router.js';
import { createUploadRoute } from './upload-route.js';

export interface AppDeps {
  config: ServiceConfig;
  store: ObjectStore;
  cache: VariantCache;
  renderer: Renderer;
  /** Signature and hotlink checks; defaults to createAuthorizer() (core/auth). */
  authorize?: Authorizer;
  fallback?: (variant: Variant) => Promise<Uint8Array>;
  page?: Handler;
  admin?: Handler;
  /** Bearer secrets for GET /_render/* (the renderer route); the route is off when absent. */
  renderSecrets?: readonly string[];
  /** What uploads purge an image's cached responses with; defaults to purging `cache`. */
  uploadPurger?: Purger;
  /** 'renderer': only /_render/*, /_admin/*, /_upload/* and /healthz; the public image routes answer 404. */
  mode?: 'full' | 'renderer';
  log?: (msg: string, err?: unknown) => void;
  /** Per-client and per-tenant render limits on the image route (RATE_LIMITS_JSON); none when absent. */
  limits?: ImageLimits;
}

export interface App {
  /** `conn`: the connection, whose address the client limit keys on. */
  fetch: (request: Request, conn?: ConnInfo) => Promise<Response>;
  loader: VariantLoader;
}

/** Wires the platform-neutral pipeline for hosts that render in process (Node, Deno). */
export function createApp(deps: AppDeps): App {
  const log = deps.log ?? ((msg, err) => console.error(msg, err));
  // Renders and uploads in flight per image: a takedown here cancels them and waits for them.
  const inFlight = createInFlightRegistry();
  const loader = createStoreLoader({
    inFlight,
    store: deps.store,
    renderer: deps.renderer,
    config: deps.config,
    fallback: deps.fallback,
    onBackgroundError: (what, err) => log(`background ${what} failed`, err),
  });
  // Only the public image route spends the render budget: uploads and /_render/* (whose
  // caller, the edge, has its own) render without it.
  const imageLoader = deps.limits ? budgetedLoader(loader, deps.limits.limiter) : loader;
  const handler = createImageHandler({
    config: deps.config,
    cache: deps.cache,
    loader: imageLoader,
    authorize: deps.authorize ?? createAuthorizer(),
    recover: deps.limits ? neighbourRecovery(deps.config, deps.cache.peek?.bind(deps.cache)) : undefined,
  });
  const image = deps.limits ? limitedImageRoute(handler, { config: deps.config, limits: deps.limits }) : handler;
  const render = deps.renderSecrets?.length ? createRenderRoute({ config: deps.config, loader, secrets: deps.renderSecrets }) : undefined;
  // A renderer-only deployment must not serve images past the edge's signature and hotlink checks.
  const publicRoutes = deps.mode !== 'renderer';
  const route = createRouter({
    image: publicRoutes ? image : () => undefined,
    page: publicRoutes ? deps.page : undefined,
    admin: deps.admin ?? createInProcessAdmin({ config: deps.config, store: deps.store, cache: deps.cache, loader, inFlight }),
    render,
    // Uploads need the store and the renderer, which both modes have; authenticated, so not "public".
    upload: createUploadRoute({
      config: deps.config,
      service: createUploadService({
        store: deps.store,
        renderer: deps.renderer,
        config: deps.config,
        purger: deps.uploadPurger ?? createCachePurger(deps.cache),
        loader,
        inFlight,
        log,
      }),
    }),
    onError: (err, req) => log(`unhandled error on ${req.method} ${new URL(req.url).pathname}`, err),
  });
  // The Node and Deno servers take a Promise, as the router answered before it could answer in hand.
  const fetch = async (request: Request, conn?: ConnInfo) => route(request, conn);
  return { fetch, loader };
}
