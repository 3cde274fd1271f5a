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

/** Folds Accept into one format: WebP when accepted, else JPEG, or PNG for sources with alpha. */
export function negotiateFormat(accept: string | null, allowed: readonly Format[]): Negotiated {
  if (allowed.includes('webp') && accepts(accept, 'image/webp')) return 'webp';
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
