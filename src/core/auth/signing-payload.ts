import { canonicalPathAndQuery } from '../request/canonical-url.js';
import type { PendingVariant } from '../request/canonicalize.js';

/**
 * What a signature covers: the canonical URL of the variant (after canonicalization, so junk
 * params, param order, case, dpr and unsnapped sizes never break a valid signature) with
 * `&exp=<unix seconds>` appended. Example:
 *
 *   /secure/hopper?fmt=webp&fit=cover&h=128&q=75&w=128&exp=1767225600
 *
 * The canonical URL lists fmt, fit, h, q, v, w in that order, each only when it applies
 * (fmt is omitted when the format is negotiated from Accept — `fmt=auto` or no fmt — so one
 * signed URL serves every browser; q is omitted for PNG; h/w are omitted when 0, i.e. free;
 * v when absent). The template form /{tenant}/{id}/{size}.{ext} canonicalizes to the same
 * variant and therefore to the same payload. docs/signing.md is the normative description.
 */
export function signingPayload(v: PendingVariant, exp: number | string): string {
  const format = v.negotiated ? 'auto' : v.format;
  if (format === 'jpeg-or-png' || format === 'avif-or-webp') throw new Error('a non-negotiated variant has a concrete format');
  return `${canonicalPathAndQuery({ ...v, format })}&exp=${exp}`;
}
