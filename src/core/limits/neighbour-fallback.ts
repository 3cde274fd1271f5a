import type { ServiceConfig } from '../config/service-config.js';
import { HttpError } from '../errors.js';
import type { VariantBody } from '../ports.js';
import { variantHeaders } from '../delivery/response-headers.js';
import { canonicalKey, type Variant } from '../variant.js';

/** Seconds a neighbouring variant served over the render budget may be kept downstream. */
export const FALLBACK_MAX_AGE = 10;
export const FALLBACK_HEADER = 'x-avatar-fallback';

/** A render refused by the budget, with the variant it was for (the image route looks for a neighbour). */
export class RenderRefused extends HttpError {
  constructor(
    refusal: HttpError,
    readonly variant: Variant,
  ) {
    super(refusal.status, refusal.code, refusal.message, refusal.headers);
  }
}

/**
 * The variants that may stand in for `v`, best first: the same image, fit, gravity, quality,
 * format and version one step up the tenant's size ladder (downscaled by the browser: looks
 * right), else one step down. The sides keep their ratio and stay on the ladder; a free side
 * (0) stays free.
 */
export function neighbourVariants(v: Variant, ladder: readonly number[]): Variant[] {
  const lead = v.width || v.height;
  const other = v.width ? v.height : 0;
  const larger = ladder.find((b) => b > lead);
  const smaller = ladder.findLast((b) => b < lead);
  const out: Variant[] = [];
  for (const side of [larger, smaller]) {
    if (side === undefined) continue;
    const scaled = (other * side) / lead;
    if (other && !(Number.isInteger(scaled) && ladder.includes(scaled))) continue;
    out.push(v.width ? { ...v, width: side, height: scaled } : { ...v, height: side });
  }
  return out;
}

/**
 * The answer to a request whose render the budget refused: a neighbouring variant from the
 * cache (`peek`), marked with X-Avatar-Fallback and a short Cache-Control so neither the CDN
 * nor the browser keeps it in place of the real one; undefined when none is cached.
 */
export function neighbourResponse(refused: RenderRefused, request: Request, deps: { config: ServiceConfig; peek: (key: string) => VariantBody | undefined }): Response | undefined {
  const v = refused.variant;
  const tenant = deps.config.tenants.get(v.tenant);
  if (!tenant) return undefined;
  for (const n of neighbourVariants(v, tenant.breakpoints)) {
    const key = canonicalKey(n);
    const value = deps.peek(key);
    if (!value || value.status !== 200) continue;
    // The neighbour's keys: purging the image (or the tenant) purges this answer too.
    const headers = variantHeaders(value, { key: canonicalKey(v), state: 'HIT', cacheControl: `public, max-age=${FALLBACK_MAX_AGE}`, negotiated: v.negotiated });
    headers['content-length'] = String(value.body.byteLength);
    headers[FALLBACK_HEADER] = key;
    return new Response(request.method === 'HEAD' ? null : (value.body as Uint8Array<ArrayBuffer>), { status: 200, headers });
  }
  return undefined;
}
