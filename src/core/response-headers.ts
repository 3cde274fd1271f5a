import type { CachePolicy } from './config/service-config.js';
import type { Tenant } from './config/tenant-config.js';
import type { CacheState, VariantBody } from './ports.js';

/** Browser/downstream Cache-Control: long with SWR normally, short for legally sensitive tenants. */
export function browserCacheControl(tenant: Tenant, policy: CachePolicy): string {
  if (tenant.ttlClass === 'short') return `public, max-age=${policy.shortTtl}`;
  return `public, max-age=${policy.browserMaxAge}, stale-while-revalidate=${policy.browserSwr}`;
}

/** Edge TTL for a variant: purge-driven long TTL, or the short class. */
export function edgeTtl(tenant: Tenant, policy: CachePolicy): { ttl: number; swr: number } {
  if (tenant.ttlClass === 'short') return { ttl: policy.shortTtl, swr: 0 };
  return { ttl: policy.edgeTtl, swr: policy.edgeSwr };
}

export function serverTiming(state: CacheState | 'PASS', value: VariantBody, totalMs: number): string {
  const parts = [`cache;desc="${state}"`];
  // Stage timings only describe this request when it did the work.
  if (state === 'MISS') {
    for (const name of ['origin', 'decode', 'resize', 'encode']) {
      const d = value.timings[name];
      if (d !== undefined) parts.push(`${name};dur=${d.toFixed(1)}`);
    }
  }
  parts.push(`total;dur=${totalMs.toFixed(1)}`);
  return parts.join(', ');
}
