import type { Tenant } from '../config/tenant-config.js';
import type { Limits } from '../config/service-config.js';
import { badParam } from '../errors.js';
import { type Fit, type Format, type Gravity, type Variant, FITS, GRAVITIES } from '../variant.js';
import { type PathParts, VERSION_RE } from './parse-path.js';
import type { ImageParams } from './query.js';
import { type Negotiated, negotiateFormat } from './negotiate-format.js';

/** A canonical variant whose format may still wait for the source's alpha (see negotiate-format). */
export type PendingVariant = Omit<Variant, 'format'> & { format: Negotiated };

const INT_RE = /^\d{1,5}$/;
const DPR_RE = /^\d{1,2}(\.\d{1,3})?$/;
const FMT_VALUES: Record<string, Format | 'auto'> = { auto: 'auto', webp: 'webp', jpeg: 'jpeg', jpg: 'jpeg', png: 'png', avif: 'avif' };

/** Smallest breakpoint >= px; the largest one when px is above the ladder. */
export function snapUp(px: number, ladder: readonly number[]): number {
  for (const b of ladder) if (b >= px) return b;
  return ladder[ladder.length - 1]!;
}

/** Nearest allowed value; ties go to the higher quality. */
export function snapNearest(q: number, allowed: readonly number[]): number {
  let best = allowed[0]!;
  for (const a of allowed) if (Math.abs(a - q) <= Math.abs(best - q)) best = a;
  return best;
}

function parseDimension(name: 'w' | 'h', raw: string | undefined, limits: Limits): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = INT_RE.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= limits.maxRequestDimension)) {
    throw badParam(name, `an integer from 1 to ${limits.maxRequestDimension} (pixels)`);
  }
  return n;
}

/**
 * Turns a parsed request into its one canonical variant: allowlisted params only, values
 * lowercased, dpr folded into pixels and capped, w/h snapped up to the tenant's ladder,
 * q snapped to the tenant's qualities, format folded from Accept, defaults filled in.
 * Throws HttpError(400) naming the parameter and what is allowed.
 */
export function canonicalize(path: PathParts, params: ImageParams, accept: string | null, tenant: Tenant, limits: Limits): PendingVariant {
  const p: ImageParams = {};
  for (const [k, v] of Object.entries(params)) p[k as keyof ImageParams] = v?.toLowerCase();
  if (path.template) {
    // The template form fixes size and format in the path; query w/h/fmt would contradict it.
    p.w = path.template.size;
    p.h = path.template.size;
    p.fmt = path.template.format;
  }

  let dpr = 1;
  if (p.dpr !== undefined && p.dpr !== '') {
    const d = DPR_RE.test(p.dpr) ? Number(p.dpr) : NaN;
    if (!(d > 0 && d <= 10)) throw badParam('dpr', 'a number greater than 0 and at most 10 (capped at ' + tenant.maxDpr + ')');
    dpr = Math.min(Math.max(d, 1), tenant.maxDpr);
  }

  const w = parseDimension('w', p.w, limits);
  const h = parseDimension('h', p.h, limits);
  const snap = (n: number | undefined) => (n === undefined ? 0 : snapUp(Math.ceil(n * dpr), tenant.breakpoints));
  let width = snap(w);
  let height = snap(h);
  if (w === undefined && h === undefined) width = height = snap(tenant.defaultSize);

  let fit: Fit = 'cover';
  if (p.fit !== undefined && p.fit !== '') {
    if (!FITS.includes(p.fit as Fit) || !tenant.fits.includes(p.fit as Fit)) {
      throw badParam('fit', `one of ${tenant.fits.join(', ')}`);
    }
    fit = p.fit as Fit;
  }
  if (!tenant.fits.includes(fit)) fit = tenant.fits[0]!;
  // With one side free the box follows the source aspect, so fit has no effect: one canonical value.
  if (width === 0 || height === 0) fit = 'inside';

  let gravity: Gravity = tenant.gravity;
  if (p.g !== undefined && p.g !== '') {
    if (!GRAVITIES.includes(p.g as Gravity)) throw badParam('g', `one of ${GRAVITIES.join(', ')}`);
    gravity = p.g as Gravity;
  }

  const fmtRaw = p.fmt === undefined || p.fmt === '' ? 'auto' : p.fmt;
  const fmt = FMT_VALUES[fmtRaw];
  if (fmt === undefined || (fmt !== 'auto' && !tenant.formats.includes(fmt))) {
    throw badParam('fmt', `one of auto, ${tenant.formats.join(', ')}`);
  }
  const format: Negotiated = fmt === 'auto' ? negotiateFormat(accept, tenant.formats, tenant.autoFormats, Math.max(width, height)) : fmt;

  let quality = tenant.defaultQuality;
  if (p.q !== undefined && p.q !== '') {
    const q = INT_RE.test(p.q) ? Number(p.q) : NaN;
    if (!(q >= 1 && q <= 100)) throw badParam('q', 'an integer from 1 to 100');
    quality = snapNearest(q, tenant.qualities);
  }
  // PNG output is lossless: quality would only split the cache.
  if (format === 'png') quality = 100;

  let version = '';
  if (p.v !== undefined && p.v !== '') {
    if (!VERSION_RE.test(p.v)) throw badParam('v', '1-32 characters of a-z, 0-9, ".", "_" and "-"');
    version = p.v;
  }

  return {
    tenant: tenant.name,
    id: path.id,
    width,
    height,
    fit,
    format,
    quality,
    version,
    negotiated: fmt === 'auto',
    // Only cover crops, so elsewhere it is dropped. Centre in a centre-default tenant stays
    // unset: its URLs, signatures and cache keys are those from before gravity existed.
    ...(fit === 'cover' && (gravity !== 'center' || tenant.gravity !== 'center') ? { gravity } : {}),
  };
}

/** Completes a pending variant once the format is known. */
export function withFormat(v: PendingVariant, format: Format): Variant {
  return { ...v, format, quality: format === 'png' ? 100 : v.quality };
}
