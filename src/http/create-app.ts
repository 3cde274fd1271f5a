import type { ServiceConfig } from '../core/config/service-config.js';
import { type Authorizer, createImageHandler } from '../core/image-handler.js';
import type { ObjectStore, Renderer, VariantCache, VariantLoader } from '../core/ports.js';
import { createStoreLoader } from '../core/variant-loader.js';
import type { Variant } from '../core/variant.js';
import { createRouter, type Handler } from './router.js';

export interface AppDeps {
  config: ServiceConfig;
  store: ObjectStore;
  cache: VariantCache;
  renderer: Renderer;
  authorize?: Authorizer;
  fallback?: (variant: Variant) => Promise<Uint8Array>;
  page?: Handler;
  admin?: Handler;
  render?: Handler;
  log?: (msg: string, err?: unknown) => void;
}

export interface App {
  fetch: (request: Request) => Promise<Response>;
  loader: VariantLoader;
}

/** Wires the platform-neutral pipeline for hosts that render in process (Node, Deno). */
export function createApp(deps: AppDeps): App {
  const log = deps.log ?? ((msg, err) => console.error(msg, err));
  const loader = createStoreLoader({
    store: deps.store,
    renderer: deps.renderer,
    config: deps.config,
    fallback: deps.fallback,
    onBackgroundError: (what, err) => log(`background ${what} failed`, err),
  });
  const image = createImageHandler({ config: deps.config, cache: deps.cache, loader, authorize: deps.authorize });
  const fetch = createRouter({
    image,
    page: deps.page,
    admin: deps.admin,
    render: deps.render,
    onError: (err, req) => log(`unhandled error on ${req.method} ${new URL(req.url).pathname}`, err),
  });
  return { fetch, loader };
}
