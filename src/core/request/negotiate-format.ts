import type { Format } from '../variant.js';

/**
 * `fmt=auto` without WebP support resolves to 'jpeg-or-png' until the source's alpha is known;
 * AVIF with WebP acceptable too resolves to 'avif-or-webp' until it is known whether the source
 * is animated (the renderer animates WebP only).
 */
export type Negotiated = Format | 'jpeg-or-png' | 'avif-or-webp';

/** What negotiation may need to know of the original, before any variant is looked up. */
export interface OriginalFacts {
  alpha: boolean;
  animated: boolean;
}

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
 * Below this box side `fmt=auto` does not pick AVIF: at 64 px its files are larger than
 * WebP's for 5 of the 7 corpus images (0.8–1.5×; a fixed ~300-byte container), for 5× the
 * encode time (npm run bench -- --only=avif). `fmt=avif` still gives AVIF at any size.
 */
export const AVIF_MIN_AUTO_SIDE = 128;

/**
 * Folds Accept into one format: the first of `order` (a tenant's `autoFormats`) that the
 * tenant allows and Accept lists (AVIF only for boxes of at least AVIF_MIN_AUTO_SIDE on their
 * longer side; `side` 0 means unknown), else JPEG, or PNG for sources with alpha. AVIF with
 * WebP later in `order`, allowed and listed too, is 'avif-or-webp': WebP for animated sources.
 */
export function negotiateFormat(accept: string | null, allowed: readonly Format[], order: readonly Format[] = DEFAULT_AUTO_FORMATS, side = 0): Negotiated {
  const usable = (f: Format) => allowed.includes(f) && accepts(accept, `image/${f}`);
  for (const [i, f] of order.entries()) {
    if (f === 'avif' && side > 0 && side < AVIF_MIN_AUTO_SIDE) continue;
    if (!usable(f)) continue;
    return f === 'avif' && order.indexOf('webp') > i && usable('webp') ? 'avif-or-webp' : f;
  }
  const jpeg = allowed.includes('jpeg');
  const png = allowed.includes('png');
  if (jpeg && png) return 'jpeg-or-png';
  if (jpeg) return 'jpeg';
  if (png) return 'png';
  return 'webp';
}

/** Whether resolveNegotiated needs the original's facts for `n`. */
export function needsFacts(n: Negotiated): boolean {
  return n === 'jpeg-or-png' || n === 'avif-or-webp';
}

export function resolveNegotiated(n: Negotiated, facts: OriginalFacts): Format {
  if (n === 'jpeg-or-png') return facts.alpha ? 'png' : 'jpeg';
  if (n === 'avif-or-webp') return facts.animated ? 'webp' : 'avif';
  return n;
}
