import { type Variant, variantName } from './variant.js';

/**
 * Surrogate keys tag every response so one purge drops a whole tenant, every
 * variant of one image, or a single variant. Keys are printable ASCII without
 * spaces (Fastly's rule) because tenant and id are validated to [a-z0-9._-].
 */
export const tenantKey = (tenant: string): string => `t:${tenant}`;
export const imageKey = (tenant: string, id: string): string => `i:${tenant}/${id}`;
export const variantKey = (v: Variant): string => `v:${v.tenant}/${v.id}/${variantName(v)}`;

export function surrogateKeysFor(v: Variant): string[] {
  return [tenantKey(v.tenant), imageKey(v.tenant, v.id), variantKey(v)];
}

const KEY_RE = /^[tiv]:[\x21-\x7e]{1,1000}$/;
export const isSurrogateKey = (k: string): boolean => KEY_RE.test(k);
