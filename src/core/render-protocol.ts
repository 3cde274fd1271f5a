import { HttpError } from './errors.js';
import { assertTenantAndId } from './request/parse-path.js';
import type { Gravity } from './focal-point.js';
import { type Fit, type Format, type Variant, FITS, FORMATS, VARIANT_NAME_RE, variantName } from './variant.js';

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

const VERSION_RE = /^[A-Za-z0-9._-]{1,32}$/;

/** Parses a render path back into a variant; anything malformed is a 400. */
export function parseRenderPath(pathname: string, search: string): Variant {
  const bad = () => new HttpError(400, 'INVALID_RENDER_PATH', `expected ${RENDER_PREFIX}{tenant}/{id}/{W}x{H}-{fit}[-g{gravity}]-q{Q}.{fmt}`);
  if (!pathname.startsWith(RENDER_PREFIX) || /[%\\\0]/.test(pathname)) throw bad();
  const segs = pathname.slice(RENDER_PREFIX.length).split('/');
  if (segs.length !== 3) throw bad();
  const [tenant = '', id = '', name = ''] = segs;
  assertTenantAndId(tenant, id);
  const m = VARIANT_NAME_RE.exec(name);
  if (!m) throw bad();
  const [width, height, quality] = [Number(m[1]), Number(m[2]), Number(m[5])];
  const fit = m[3] as Fit;
  const gravity = m[4] as Gravity | undefined;
  const format = m[6] as Format;
  if (!FITS.includes(fit) || !FORMATS.includes(format) || quality < 1 || quality > 100) throw bad();
  if (width === 0 && height === 0) throw bad();
  if (width > 9999 || height > 9999) throw bad();
  if (gravity && fit !== 'cover') throw bad();
  const version = new URLSearchParams(search).get('v') ?? '';
  if (version && !VERSION_RE.test(version)) throw bad();
  return { tenant, id, width, height, fit, format, quality, version, negotiated: false, ...(gravity ? { gravity } : {}) };
}
