import { HttpError } from '../errors.js';
import type { Format } from '../variant.js';

/** What the path says: tenant, image id, and for the template form a square size and extension. */
export interface PathParts {
  tenant: string;
  id: string;
  template?: { size: string; format: Format };
}

// Tenant and id are the only request values that reach storage keys and surrogate keys, so
// they are held to a strict charset: no '/', '\', '%', NUL, no leading dot, no '..'.
export const TENANT_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** An image version (`?v=`): part of the cache key and the render path, so held to a charset too. */
export const VERSION_RE = /^[A-Za-z0-9._-]{1,32}$/;

/**
 * Whether a raw (still percent-encoded) path holds '%', '\' or NUL. Such paths are refused
 * outright rather than decoded: no legitimate tenant or id needs them, and decoding is where
 * traversal hides.
 */
export function hasUnsafePathChars(rawPath: string): boolean {
  return /[%\\\0]/.test(rawPath);
}

/** hasUnsafePathChars as a 400 INVALID_PATH, whose message names the route's form (`use`). */
export function assertSafePath(rawPath: string, use: string): void {
  if (hasUnsafePathChars(rawPath)) throw new HttpError(400, 'INVALID_PATH', `the path must not contain "%", "\\" or NUL: use ${use}`);
}

const EXT_FORMATS: Record<string, Format> = { webp: 'webp', jpeg: 'jpeg', jpg: 'jpeg', png: 'png', avif: 'avif' };

export function isValidId(id: string): boolean {
  return ID_RE.test(id) && !id.includes('..');
}

export function assertTenantAndId(tenant: string, id: string): void {
  if (!TENANT_RE.test(tenant)) {
    throw new HttpError(400, 'INVALID_TENANT', 'tenant must be 1-32 characters of a-z, 0-9 and "-", not starting with "-"');
  }
  if (!isValidId(id)) {
    throw new HttpError(400, 'INVALID_ID', 'image id must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" and "-", not starting with ".", "_" or "-", and without ".."');
  }
}

/** The longest raw path a request may have (else 414 PATH_TOO_LONG). */
export const MAX_PATH_LENGTH = 300;

/** Parses the raw (still percent-encoded) path; see hasUnsafePathChars for what is refused. */
export function parsePath(rawPath: string): PathParts {
  if (rawPath.length > MAX_PATH_LENGTH) throw new HttpError(414, 'PATH_TOO_LONG', `the path must be at most ${MAX_PATH_LENGTH} characters`);
  assertSafePath(rawPath, '/{tenant}/{id} or /{tenant}/{id}/{size}.{ext}');
  const segs = rawPath.split('/').slice(1);
  if (segs.length < 2 || segs.length > 3 || segs.some((s) => s === '')) {
    throw new HttpError(404, 'NOT_FOUND', 'use /{tenant}/{id} or /{tenant}/{id}/{size}.{ext}');
  }
  const [tenant = '', id = '', file] = segs;
  assertTenantAndId(tenant, id);
  if (file === undefined) return { tenant, id };

  const m = /^([^.]+)\.([A-Za-z]+)$/.exec(file);
  const format = m ? EXT_FORMATS[m[2]!.toLowerCase()] : undefined;
  if (!m || !format) {
    throw new HttpError(400, 'INVALID_PATH', `the template form is /{tenant}/{id}/{size}.{ext} with ext one of ${Object.keys(EXT_FORMATS).join(', ')}`);
  }
  return { tenant, id, template: { size: m[1]!, format } };
}
