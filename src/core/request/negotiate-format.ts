import type { Format } from '../variant.js';

/** `fmt=auto` without WebP support resolves to this until the source's alpha is known. */
export type Negotiated = Format | 'jpeg-or-png';

/** True when Accept lists `mime` explicitly with q > 0 (wildcards do not count: old Safari sends *\/*). */
export function accepts(accept: string | null, mime: string): boolean {
  if (!accept) return false;
  for (const part of accept.toLowerCase().split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim() !== mime) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** What `fmt=auto` tries first, in order, when the tenant allows them and Accept lists them. */
export const DEFAULT_AUTO_FORMATS: readonly Format[] = ['avif', 'webp'];

/**
 * Folds Accept into one format: the first of `order` (a tenant's `autoFormats`) that the
 * tenant allows and Accept lists, else JPEG, or PNG for sources with alpha.
 */
export function negotiateFormat(accept: string | null, allowed: readonly Format[], order: readonly Format[] = DEFAULT_AUTO_FORMATS): Negotiated {
  for (const f of order) if (allowed.includes(f) && accepts(accept, `image/${f}`)) return f;
  const jpeg = allowed.includes('jpeg');
  const png = allowed.includes('png');
  if (jpeg && png) return 'jpeg-or-png';
  if (jpeg) return 'jpeg';
  if (png) return 'png';
  return 'webp';
}

export function resolveNegotiated(n: Negotiated, hasAlpha: boolean): Format {
  if (n !== 'jpeg-or-png') return n;
  return hasAlpha ? 'png' : 'jpeg';
}
