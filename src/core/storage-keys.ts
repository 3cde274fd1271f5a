import { assertTenantAndId } from './request/parse-path.js';
import { type Variant, variantName } from './variant.js';

/**
 * The only place object keys are built. Tenant and id are validated again here (not just at
 * the router) so no caller can ever produce a key outside `{kind}/{tenant}/`.
 */

/** FNV-1a 32-bit: cheap, synchronous, stable across runtimes; used only to spread keys. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Two hex characters: 256 shards per tenant, so hot keys spread across S3 partitions. */
export function shardOf(tenant: string, id: string): string {
  return (fnv1a(`${tenant}/${id}`) & 0xff).toString(16).padStart(2, '0');
}

export function originalKey(tenant: string, id: string): string {
  assertTenantAndId(tenant, id);
  return `originals/${tenant}/${shardOf(tenant, id)}/${id}`;
}

/** Prefix holding every stored variant of one image (ends with '/'). */
export function variantPrefix(tenant: string, id: string): string {
  assertTenantAndId(tenant, id);
  return `variants/${tenant}/${shardOf(tenant, id)}/${id}/`;
}

export function variantObjectKey(v: Variant): string {
  return variantPrefix(v.tenant, v.id) + variantName(v);
}

export function tombstoneKey(tenant: string, id: string): string {
  assertTenantAndId(tenant, id);
  return `tombstones/${tenant}/${shardOf(tenant, id)}/${id}`;
}

export function tenantPrefix(kind: 'originals' | 'variants' | 'tombstones', tenant: string): string {
  assertTenantAndId(tenant, 'x');
  return `${kind}/${tenant}/`;
}
