import { HttpError } from './errors.js';
import { assertTenantAndId, hasUnsafePathChars, VERSION_RE } from './request/parse-path.js';
import { type Variant, parseVariantName, variantName } from './variant.js';

/**
 * The renderer route an edge (the Fastly service) calls on a miss:
 *   GET /_render/{tenant}/{id}/{WxH-fit-qQ.fmt}[?v=version]
 *   Authorization: Bearer <render secret>
 * It is a GET so the edge's HTTP cache (cache key = canonical variant) can store the answer.
 * The response carries Content-Type, ETag, Surrogate-Key and X-Render-Source.
 */
export const RENDER_PREFIX = '/_render/';

export function renderPath(v: Variant): string {
  const base = `${RENDER_PREFIX}${v.tenant}/${v.id}/${variantName(v)}`;
  return v.version ? `${base}?v=${encodeURIComponent(v.version)}` : base;
}

/** Parses a render path back into a variant; anything malformed is a 400. */
export function parseRenderPath(pathname: string, search: string): Variant {
  const bad = () => new HttpError(400, 'INVALID_RENDER_PATH', `expected ${RENDER_PREFIX}{tenant}/{id}/{W}x{H}-{fit}[-g{gravity}]-q{Q}.{fmt}`);
  if (!pathname.startsWith(RENDER_PREFIX) || hasUnsafePathChars(pathname)) throw bad();
  const segs = pathname.slice(RENDER_PREFIX.length).split('/');
  if (segs.length !== 3) throw bad();
  const [tenant = '', id = '', name = ''] = segs;
  assertTenantAndId(tenant, id);
  const parts = parseVariantName(name);
  if (!parts) throw bad();
  const version = new URLSearchParams(search).get('v') ?? '';
  if (version && !VERSION_RE.test(version)) throw bad();
  return { tenant, id, ...parts, version, negotiated: false };
}
