import type { Variant } from '../variant.js';

/**
 * The canonical URL of a variant: a request for it canonicalizes to the same variant
 * (canonicalization is idempotent), so signed and precomputed URLs never split the cache.
 * `format: 'auto'` keeps the format negotiable (fmt omitted).
 */
export function canonicalPathAndQuery(v: Omit<Variant, 'format' | 'negotiated'> & { format: Variant['format'] | 'auto' }): string {
  const q = new URLSearchParams();
  if (v.format !== 'auto') q.set('fmt', v.format);
  q.set('fit', v.fit);
  // Set only where it can matter (cover) and differs from a centre-default tenant's centre: canonicalize.ts.
  if (v.gravity) q.set('g', v.gravity);
  if (v.height) q.set('h', String(v.height));
  if (v.format !== 'png') q.set('q', String(v.quality));
  if (v.version) q.set('v', v.version);
  if (v.width) q.set('w', String(v.width));
  return `/${v.tenant}/${v.id}?${q.toString()}`;
}
