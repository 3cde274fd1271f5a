import type { ServiceConfig } from '../core/config/service-config.js';
import { isHttpError } from '../core/errors.js';
import { createInProcessLimiter, type InProcessLimiter, type InProcessLimiterOptions } from '../core/limits/in-process-limiter.js';
import { neighbourResponse, RenderRefused } from '../core/limits/neighbour-fallback.js';
import type { RateLimits } from '../core/limits/rate-limits.js';
import type { LoadOptions, VariantBody, VariantLoader } from '../core/ports.js';
import { clientAddress, type ClientIpSource } from '../core/request/client-address.js';
import { firstSegment, type Handler } from './router.js';

/** The in-process rate limits a host turns on (Node, Deno): docs/operations.md, "Rate limits". */
export interface ImageLimits {
  limiter: InProcessLimiter;
  /** Where the client's address comes from: the TCP peer, or X-Forwarded-For behind a proxy trusted to set it. */
  clientIp: Exclude<ClientIpSource, 'off'>;
}

/**
 * The tenant a request's path names, for the client limit's entry: a configured tenant's own
 * name string, else '' (unknown tenants answer 404, and cannot multiply one client's entries).
 * No URL parse: this runs on every cache hit.
 */
function tenantOf(url: string, config: ServiceConfig): string {
  return config.tenants.get(firstSegment(url))?.name ?? '';
}

/** The loader the image route uses: renders count against the tenant's budget, refusals name their variant. */
export function budgetedLoader(loader: VariantLoader, limiter: InProcessLimiter): VariantLoader {
  const opts: LoadOptions = {
    beforeRender(variant) {
      try {
        limiter.takeRender(variant.tenant);
      } catch (err) {
        throw isHttpError(err) ? new RenderRefused(err, variant) : err;
      }
    },
  };
  return {
    load: (variant) => loader.load(variant, opts),
    facts: (tenant, id) => loader.facts(tenant, id),
  };
}

/**
 * The image route behind the client limit: checked first (before signatures or the cache), and
 * thrown synchronously (the router catches it): no extra promise on a hit.
 */
export function limitedImageRoute(image: Handler, deps: { config: ServiceConfig; limits: ImageLimits }): Handler {
  const { limiter, clientIp } = deps.limits;
  return (request, conn) => {
    limiter.checkClient(tenantOf(request.url, deps.config), clientAddress(request, conn, clientIp));
    return image(request, conn);
  };
}

/** The image handler's `recover`: a render the budget refused is answered with a cached neighbour when there is one. */
export function neighbourRecovery(config: ServiceConfig, peek: ((key: string) => VariantBody | undefined) | undefined) {
  if (!peek) return undefined;
  return (err: unknown, request: Request): Response | undefined => (err instanceof RenderRefused ? neighbourResponse(err, request, { config, peek }) : undefined);
}

/**
 * The limits a Node or Deno host runs with: RATE_LIMITS_JSON's, keyed on the address the
 * access log would record (ACCESS_LOG_CLIENT_IP=x-forwarded-for: that header's first address,
 * else always the TCP peer, even when the log records none).
 */
export function createImageLimits(opts: { limits: RateLimits; clientIp: ClientIpSource; onRefused?: InProcessLimiterOptions['onRefused'] }): ImageLimits {
  return {
    limiter: createInProcessLimiter({ limits: opts.limits, onRefused: opts.onRefused }),
    clientIp: opts.clientIp === 'x-forwarded-for' ? 'x-forwarded-for' : 'socket',
  };
}
