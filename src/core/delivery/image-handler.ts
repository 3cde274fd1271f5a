import type { ServiceConfig } from '../config/service-config.js';
import type { Tenant } from '../config/tenant-config.js';
import { etagMatches } from './etag.js';
import { HttpError } from '../errors.js';
import type { CacheResult, Clock, VariantCache, VariantLoader } from '../ports.js';
import { type PendingVariant, canonicalize, withFormat } from '../request/canonicalize.js';
import { needsFacts, type OriginalFacts, resolveNegotiated } from '../request/negotiate-format.js';
import { type PathParts, parsePath } from '../request/parse-path.js';
import { type AuthParams, parseQuery } from '../request/query.js';
import { assertHeaderValueSize } from '../request/header-limits.js';
import { type ResolvedParts, type ResolveMemo, resolveMemoKey } from '../request/resolve-memo.js';
import { checkExpiry } from '../auth/verify-signature.js';
import { browserCacheControl, edgeTtl, serverTiming, stageTimings, variantHeaders } from './response-headers.js';
import { canonicalKey, type Variant } from '../variant.js';
import { isPromise, type MaybePromise } from '../maybe-promise.js';

/** Checks a request against the tenant's signature and hotlink rules; throws HttpError(403). */
export type Authorizer = (ctx: AuthContext) => Promise<void>;

export interface AuthContext {
  request: Request;
  tenant: Tenant;
  path: PathParts;
  auth: AuthParams;
  /** The canonical variant before format negotiation (what a signature covers). */
  pending: PendingVariant;
  now: number;
}

export interface ImageHandlerDeps {
  config: ServiceConfig;
  cache: VariantCache;
  loader: VariantLoader;
  authorize?: Authorizer;
  clock?: Clock;
  /**
   * Answers a request whose load failed with something else, or undefined to let the error
   * through (the in-process render budget serves a cached neighbouring size this way). Only on
   * the failure path: a hit pays nothing for it.
   */
  recover?: (err: unknown, request: Request) => Response | undefined;
  /**
   * Receives the stage timings the answer's Server-Timing carries, as numbers (stageTimings),
   * and the answer's headers as built (a plain object, lowercase names), for a host that logs
   * them: cheaper than parsing the header back or reading the Response's headers one by one.
   */
  onAnswer?: (timings: Record<string, number>, headers: Record<string, string>) => void;
  /**
   * Remembers what parse → canonicalize → authorize decided per URL and headers, for a host
   * that answers the same URLs many times in one process (request/resolve-memo.ts). Only with
   * the default authorizer's kind of checks; the expiry is checked on every request.
   */
  memo?: ResolveMemo;
}

/** Everything the pipeline decided about a request, before the cache is asked. */
export interface ResolvedRequest {
  tenant: Tenant;
  variant: Variant;
  key: string;
  /** Seconds until a signed URL's `exp`, when the tenant requires signatures. */
  expiresIn?: number;
}

/** What resolveNegotiated is given when the negotiated format does not depend on the original. */
const NO_FACTS: OriginalFacts = { alpha: false, animated: false };

/** parse → canonicalize → authorize → (format needs the original's alpha or animation?) → canonical key. */
export async function resolveImageRequest(request: Request, deps: Omit<ImageHandlerDeps, 'cache'>): Promise<ResolvedRequest> {
  return resolveFrom(recall(request, deps), request, deps);
}

/** What a request's resolution starts from: the headers and clock it read, and what the memo remembered (its per-request checks passed). */
interface Recalled {
  accept: string | null;
  /** Read once here: the memo's size check and the answer's ETag comparison both use it. */
  ifNoneMatch: string | null;
  now: number;
  memoKey: string | undefined;
  parts: ResolvedParts | undefined;
}

/** Reads the request's Accept and the clock and asks the memo; throws when a remembered request fails a check its key does not fix (431, 403 EXPIRED). */
function recall(request: Request, deps: Omit<ImageHandlerDeps, 'cache'>): Recalled {
  const headers = request.headers;
  const accept = headers.get('accept');
  const ifNoneMatch = headers.get('if-none-match');
  const now = (deps.clock ?? Date).now();
  const { memo } = deps;
  const memoKey = memo && resolveMemoKey(request, accept);
  const parts = memoKey === undefined ? undefined : memo!.get(deps.config, memoKey);
  if (parts && deps.authorize) {
    // Decided before for this very URL and these headers: only what the key does not fix is checked again.
    assertHeaderValueSize('if-none-match', ifNoneMatch, memo!.maxHeaderLength);
    if (parts.tenant.requireSignature) checkExpiry(parts.auth.exp!, now);
  }
  return { accept, ifNoneMatch, now, memoKey, parts };
}

/**
 * A remembered request whose format needs nothing from the original, resolved without waiting
 * for anything; otherwise undefined. Its variant and key are the same every time: worked out
 * once and kept with the memo's entry. `expiresIn` depends on the clock and is not kept.
 */
function resolvedAtOnce(r: Recalled): ResolvedRequest | undefined {
  const parts = r.parts;
  if (!parts || needsFacts(parts.pending.format)) return undefined;
  return resolvedAs(parts, (parts.atOnce ??= variantOf(parts.pending, NO_FACTS)), r.now);
}

async function resolveFrom(r: Recalled, request: Request, deps: Omit<ImageHandlerDeps, 'cache'>): Promise<ResolvedRequest> {
  let parts = r.parts;
  if (!parts) {
    parts = await checkImageRequest(request, r.accept, r.now, deps);
    if (r.memoKey !== undefined) deps.memo!.set(deps.config, r.memoKey, parts);
  }
  return resolved(parts, r.now, needsFacts(parts.pending.format) ? await deps.loader.facts(parts.tenant.name, parts.path.id) : NO_FACTS);
}

function resolved(parts: ResolvedParts, now: number, facts: OriginalFacts): ResolvedRequest {
  return resolvedAs(parts, variantOf(parts.pending, facts), now);
}

/** The resolved request for `parts` once its variant and key are known. */
function resolvedAs(parts: ResolvedParts, fixed: { variant: Variant; key: string }, now: number): ResolvedRequest {
  return { tenant: parts.tenant, variant: fixed.variant, key: fixed.key, expiresIn: expiresIn(parts, now) };
}

/** The canonical variant once its format is settled, and its key. */
function variantOf(pending: PendingVariant, facts: OriginalFacts): { variant: Variant; key: string } {
  const variant = withFormat(pending, resolveNegotiated(pending.format, facts));
  return { variant, key: canonicalKey(variant) };
}

/** Seconds until a signed URL's `exp`, when the tenant requires signatures. */
function expiresIn({ tenant, auth }: ResolvedParts, now: number): number | undefined {
  return tenant.requireSignature && auth.exp ? Number(auth.exp) - now / 1000 : undefined;
}

/** parse → canonicalize → authorize: throws the first problem (404, 400, 431, 403). */
async function checkImageRequest(request: Request, accept: string | null, now: number, deps: Omit<ImageHandlerDeps, 'cache'>): Promise<ResolvedParts> {
  const url = new URL(request.url);
  const path = parsePath(url.pathname);
  const { image, auth } = parseQuery(url.search, deps.config.limits.maxQueryLength);
  const tenant = deps.config.tenants.get(path.tenant);
  if (!tenant) throw new HttpError(404, 'UNKNOWN_TENANT', `no tenant '${path.tenant}'`);
  const pending = canonicalize(path, image, accept, tenant, deps.config.limits);
  if (deps.authorize) await deps.authorize({ request, tenant, path, auth, pending, now });
  return { tenant, path, auth, pending };
}

/**
 * The image route: resolve, serve from cache or load, answer with the right headers. A request
 * the memo remembers whose cache answers at once (a warm edge HIT) is answered without waiting
 * for anything (maybe-promise.ts); everything else goes the same way through Promises. It never
 * throws: a problem is a rejected Promise.
 */
export function createImageHandler(deps: ImageHandlerDeps) {
  return function handleImage(request: Request): MaybePromise<Response> {
    try {
      const t0 = performance.now();
      const recalled = recall(request, deps);
      const known = resolvedAtOnce(recalled);
      if (known) return fromCache(deps, request, known, recalled.ifNoneMatch, t0);
      return resolveFrom(recalled, request, deps).then((r) => fromCache(deps, request, r, recalled.ifNoneMatch, t0));
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/** Asks the cache for the resolved variant (loading it on a miss) and answers; at once when the cache answers at once. */
function fromCache(deps: ImageHandlerDeps, request: Request, resolved: ResolvedRequest, ifNoneMatch: string | null, t0: number): MaybePromise<Response> {
  const failed = (err: unknown): Response => {
    const answer = deps.recover?.(err, request);
    if (answer) return answer;
    throw err;
  };
  let result: MaybePromise<CacheResult>;
  try {
    // The body only passes through: a cache that can hand it over as a stream need not read it in.
    const { ttl, swr } = edgeTtl(resolved.tenant, deps.config.cache);
    result = deps.cache.getOrLoad(resolved.key, () => deps.loader.load(resolved.variant), { ttl, swr, stream: true });
  } catch (err) {
    return failed(err);
  }
  return isPromise(result) ? result.then((r) => answer(deps, request, resolved, r, ifNoneMatch, t0), failed) : answer(deps, request, resolved, result, ifNoneMatch, t0);
}

/** The answer to a request from what the cache gave: headers, 304, HEAD, or the body (Core Cache's stream when it handed one). */
function answer(deps: ImageHandlerDeps, request: Request, { tenant, variant, key, expiresIn }: ResolvedRequest, result: CacheResult, ifNoneMatch: string | null, t0: number): Response {
  const { value, state, coalesced, stream } = result;

  const headers = variantHeaders(value, {
    key,
    state,
    cacheControl: browserCacheControl(tenant, deps.config.cache, expiresIn),
    negotiated: variant.negotiated,
  });
  const stages = stageTimings(state, value, coalesced);
  headers['server-timing'] = serverTiming(state, value, performance.now() - t0, coalesced, stages);

  if (value.status === 200 && etagMatches(ifNoneMatch, value.etag)) {
    delete headers['content-type'];
    deps.onAnswer?.(stages, headers);
    dropStream(stream);
    return new Response(null, { status: 304, headers });
  }
  headers['content-length'] = String(stream ? stream.length : value.body.byteLength);
  deps.onAnswer?.(stages, headers);
  if (request.method === 'HEAD') {
    dropStream(stream);
    return new Response(null, { status: value.status, headers });
  }
  if (!stream) return new Response(value.body as Uint8Array<ArrayBuffer>, { status: value.status, headers });
  // Fastly's Response drops a Content-Length given with a stream body (and sends it chunked)
  // unless told the headers frame it; the length is the stored body's own. Others ignore the field.
  const init: ResponseInit & { manualFramingHeaders?: boolean } = { status: value.status, headers, manualFramingHeaders: true };
  return new Response(stream.body, init);
}

/** A cache's body stream that will not be sent (304, HEAD): released instead of left open. */
function dropStream(stream: CacheResult['stream']): void {
  stream?.body.cancel().catch(() => {});
}
