import { renderSecretProblems } from '../core/config/render-secrets.js';
import { ConfigError, type ServiceConfig } from '../core/config/service-config.js';
import type { Tenant } from '../core/config/tenant-config.js';
import { bearerMatches } from '../core/constant-time.js';
import { etagMatches } from '../core/delivery/etag.js';
import { HttpError } from '../core/errors.js';
import type { VariantBody, VariantLoader } from '../core/ports.js';
import { parseRenderPath } from '../core/render-protocol.js';
import { edgeTtl, serverTiming } from '../core/delivery/response-headers.js';
import { canonicalKey, type Variant } from '../core/variant.js';

export interface RenderRouteDeps {
  config: ServiceConfig;
  loader: VariantLoader;
  /** Accepted bearer secrets; more than one while a secret rotates. Must not be empty. */
  secrets: readonly string[];
}

/**
 * The renderer side of core/render-protocol.ts: what an edge (the Fastly service) calls on a
 * miss. Bearer secret first (constant time, 401 without detail), then the path, then the
 * loader (tombstone → stored variant → original → render → write-back).
 *
 * No response cache here on purpose: the edge in front caches, and a renderer-side copy would
 * outlive a takedown (the loader checks the tombstone on every call). Concurrent requests for
 * one variant still share one load, so a shield's burst of misses renders once.
 */
export function createRenderRoute(deps: RenderRouteDeps) {
  const problems = renderSecretProblems(deps.secrets);
  if (problems.length) throw new ConfigError(problems);
  const inflight = new Map<string, Promise<VariantBody>>();

  function loadOnce(variant: Variant): Promise<VariantBody> {
    const key = canonicalKey(variant);
    let p = inflight.get(key);
    if (!p) {
      p = deps.loader.load(variant).finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  }

  return async function handleRender(request: Request): Promise<Response> {
    const t0 = performance.now();
    if (!(await bearerMatches(request.headers.get('authorization'), deps.secrets))) {
      throw new HttpError(401, 'UNAUTHORIZED', 'unauthorized', { 'www-authenticate': 'Bearer' });
    }
    const url = new URL(request.url);
    const variant = parseRenderPath(url.pathname, url.search);
    const tenant = deps.config.tenants.get(variant.tenant);
    if (!tenant) throw new HttpError(404, 'UNKNOWN_TENANT', `no tenant '${variant.tenant}'`);
    assertCanonical(variant, tenant);

    const value = await loadOnce(variant);
    const ttl = value.ttl ?? edgeTtl(tenant, deps.config.cache).ttl;
    const headers = new Headers({
      'content-type': value.contentType,
      // For the edge's cache only (it sets its own TTL anyway; the browser policy is the edge's job).
      'cache-control': `public, max-age=${ttl}, stale-if-error=${deps.config.cache.edgeStaleIfError}`,
      etag: value.etag,
      'surrogate-key': value.surrogateKeys.join(' '),
      'x-render-source': value.source,
      'x-variant': canonicalKey(variant),
      'x-content-type-options': 'nosniff',
      ...value.headers,
    });
    headers.set('server-timing', serverTiming('MISS', value, performance.now() - t0));

    if (value.status === 200 && etagMatches(request.headers.get('if-none-match'), value.etag)) {
      headers.delete('content-type');
      return new Response(null, { status: 304, headers });
    }
    headers.set('content-length', String(value.body.byteLength));
    return new Response(value.body as Uint8Array<ArrayBuffer>, { status: value.status, headers });
  };
}

/**
 * The renderer only renders what the canonicalizer can produce for the tenant (widths on the
 * breakpoint ladder, allowed formats, fits and qualities), so even a leaked secret cannot
 * multiply the variants stored per image. Edge and renderer must share the tenant config.
 */
export function assertCanonical(v: Variant, tenant: Tenant): void {
  const notCanonical = (what: string) => new HttpError(400, 'NOT_CANONICAL', `render request is not a canonical variant for tenant '${tenant.name}': ${what}`);
  const onLadder = (n: number) => n === 0 || tenant.breakpoints.includes(n);
  if (!onLadder(v.width) || !onLadder(v.height)) throw notCanonical('width and height must be 0 or breakpoints');
  if (!tenant.formats.includes(v.format)) throw notCanonical(`format must be one of ${tenant.formats.join(', ')}`);
  const oneSideFree = v.width === 0 || v.height === 0;
  if (oneSideFree ? v.fit !== 'inside' : !tenant.fits.includes(v.fit)) {
    throw notCanonical(oneSideFree ? "fit must be 'inside' when one side is 0" : `fit must be one of ${tenant.fits.join(', ')}`);
  }
  if (v.format === 'png' ? v.quality !== 100 : !tenant.qualities.includes(v.quality)) {
    throw notCanonical(v.format === 'png' ? 'png quality must be 100' : `quality must be one of ${tenant.qualities.join(', ')}`);
  }
}
