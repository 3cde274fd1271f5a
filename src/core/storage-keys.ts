import { assertTenantAndId, isValidId, TENANT_RE } from './request/parse-path.js';
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

/** `20240102T030405123Z`: fixed width, so audit keys sort chronologically as strings. */
export function compactTimestamp(when: Date): string {
  return when.toISOString().replace(/[-:.]/g, '');
}

/** Prefix of one UTC day of the audit log (ends with '/'). */
export function auditDayPrefix(day: Date): string {
  const iso = day.toISOString();
  return `audit/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`;
}

const AUDIT_ID_RE = /^(\d{8})T\d{9}Z-[a-z0-9]{6,32}$/;
export const isAuditId = (id: string): boolean => AUDIT_ID_RE.test(id);

/** One object per audit entry (`{timestamp}-{random}`), so appends never read-modify-write. */
export function auditKey(entryId: string): string {
  const m = AUDIT_ID_RE.exec(entryId);
  if (!m) throw new Error(`invalid audit entry id: ${JSON.stringify(entryId)}`);
  const d = m[1]!;
  return `audit/${d.slice(0, 4)}/${d.slice(4, 6)}/${d.slice(6, 8)}/${entryId}.json`;
}

/**
 * The inverse of originalKey/variantPrefix for keys found by listing a tenant prefix:
 * which image a stored object belongs to, or null for anything that is not one.
 */
export function imageOfKey(key: string): { tenant: string; id: string } | null {
  const m = /^(?:originals|variants|tombstones)\/([^/]+)\/([0-9a-f]{2})\/([^/]+)(?:\/[^/]+)?$/.exec(key);
  if (!m) return null;
  const [, tenant, shard, id] = m as unknown as [string, string, string, string];
  if (!TENANT_RE.test(tenant) || !isValidId(id) || shardOf(tenant, id) !== shard) return null;
  return { tenant, id };
}
