import type { CachePolicy } from '../config/service-config.js';
import type { Tenant } from '../config/tenant-config.js';
import type { CacheState, VariantBody } from '../ports.js';

/**
 * Browser/downstream Cache-Control: long with SWR normally, short for legally sensitive
 * tenants. `expiresInSeconds` (a signed URL's remaining life) caps it, so no browser or
 * shared cache keeps serving a signed URL after its `exp`.
 */
export function browserCacheControl(tenant: Tenant, policy: CachePolicy, expiresInSeconds?: number): string {
  const maxAge = tenant.ttlClass === 'short' ? policy.shortTtl : policy.browserMaxAge;
  if (expiresInSeconds !== undefined && expiresInSeconds < maxAge) {
    return `public, max-age=${Math.max(0, Math.floor(expiresInSeconds))}`;
  }
  if (tenant.ttlClass === 'short') return `public, max-age=${maxAge}`;
  return `public, max-age=${maxAge}, stale-while-revalidate=${policy.browserSwr}`;
}

/** Edge TTL for a variant: purge-driven long TTL, or the short class. */
export function edgeTtl(tenant: Tenant, policy: CachePolicy): { ttl: number; swr: number } {
  if (tenant.ttlClass === 'short') return { ttl: policy.shortTtl, swr: 0 };
  return { ttl: policy.edgeTtl, swr: policy.edgeSwr };
}

/**
 * The headers of an answer carrying a variant's bytes (a cache hit or miss, or a neighbour
 * standing in for it): type, caching, validator, purge keys, what was served, plus the extra
 * headers the variant carries (a 410's short Cache-Control) and Vary when the format was
 * negotiated. No Content-Length (a 304 has none). A plain object, not a Headers: built once
 * per hit, and a host whose Response keeps its init as given writes it out as it is. Every
 * name is lowercase, so each appears once.
 */
export function variantHeaders(value: VariantBody, o: { key: string; state: CacheState; cacheControl: string; negotiated?: boolean }): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': value.contentType,
    'cache-control': o.cacheControl,
    etag: value.etag,
    'surrogate-key': value.surrogateKeys.join(' '),
    'x-cache': o.state,
    'x-variant': o.key,
    'x-content-type-options': 'nosniff',
  };
  if (value.headers) for (const name of Object.keys(value.headers)) headers[name.toLowerCase()] = value.headers[name]!;
  if (o.negotiated) headers.vary = 'Accept';
  return headers;
}

const STAGES = ['origin', 'detect', 'decode', 'resize', 'encode'] as const;

/**
 * The stage timings a response's Server-Timing carries, in ms to 0.1 as written there (what
 * observability/access-log.ts's parseServerTiming reads back): a MISS's own work; none on a
 * hit, nor on a coalesced request, which waited for another's work.
 */
export function stageTimings(state: CacheState | 'PASS', value: VariantBody, coalesced = false): Record<string, number> {
  const out: Record<string, number> = {};
  if (coalesced || state !== 'MISS') return out;
  for (let i = 0; i < STAGES.length; i++) {
    const name = STAGES[i]!;
    const d = value.timings[name];
    if (d !== undefined) out[name] = Number(d.toFixed(1));
  }
  return out;
}

/**
 * The answer's Server-Timing; `stages` when the caller already has stageTimings' result.
 * Indexed loops here and in stageTimings: a for-of is an iterator call per step, which a
 * cache hit pays several microseconds for under js-compute's interpreter (docs/fastly.md).
 */
export function serverTiming(state: CacheState | 'PASS', value: VariantBody, totalMs: number, coalesced = false, stages = stageTimings(state, value, coalesced)): string {
  let out = `cache;desc="${state}"`;
  if (coalesced) out += ', coalesced';
  const names = Object.keys(stages);
  for (let i = 0; i < names.length; i++) out += `, ${names[i]};dur=${stages[names[i]!]!.toFixed(1)}`;
  return `${out}, total;dur=${totalMs.toFixed(1)}`;
}
