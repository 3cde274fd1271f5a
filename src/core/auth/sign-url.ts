import { LIMIT_DEFAULTS, type Limits } from '../config/service-config.js';
import type { Tenant } from '../config/tenant-config.js';
import { canonicalize, type PendingVariant } from '../request/canonicalize.js';
import { assertTenantAndId } from '../request/parse-path.js';
import { IMAGE_PARAMS, type ImageParams } from '../request/query.js';
import type { Format } from '../variant.js';
import { hmacSha256Base64url } from './hmac.js';
import { signingPayload } from './signing-payload.js';

export type SignParams = Partial<Record<(typeof IMAGE_PARAMS)[number], string | number>>;

export interface SignUrlOptions {
  /** The tenant as the service sees it (breakpoints, qualities... decide the canonical form). */
  tenant: Tenant;
  id: string;
  /** Image params as an app would write them; they are canonicalized before signing. */
  params?: SignParams;
  /** Key id; its secret comes from `key`, else from `tenant.keys`. */
  kid: string;
  key?: string;
  /** Absolute expiry in unix seconds; otherwise now + ttl. */
  exp?: number;
  /** Lifetime in seconds when `exp` is not given (default one hour). */
  ttl?: number;
  /** Clock in ms since the epoch (tests). */
  now?: number;
  /** Prepended to both URLs, e.g. `https://img.example.com`; relative URLs without it. */
  base?: string;
  limits?: Limits;
}

export interface SignedUrl {
  /** Query form: `/{tenant}/{id}?{canonical params}&exp=…&kid=…&sig=…`. */
  url: string;
  /**
   * Template form `/{tenant}/{id}/{size}.{ext}?…&exp=…&kid=…&sig=…`, carrying the same
   * signature; null when the variant has no such form (not square, or format negotiated).
   */
  templateUrl: string | null;
  /** The exact string that was signed. */
  payload: string;
  sig: string;
  exp: number;
  kid: string;
  variant: PendingVariant;
}

const DEFAULT_TTL = 3600;
const EXT: Record<Format, string> = { webp: 'webp', jpeg: 'jpg', png: 'png', avif: 'avif' };

/**
 * Signs the canonical form of a request, so what it returns is already canonical: the server
 * canonicalizes the URL it receives to the same variant and recomputes the same payload.
 * Web Crypto only: runs in Node ≥ 20, Deno, Workers and Fastly Compute alike.
 * Throws HttpError(400) for params the tenant would refuse, RangeError for a bad key/exp.
 */
export async function signUrl(opts: SignUrlOptions): Promise<SignedUrl> {
  const { tenant, id, kid } = opts;
  assertTenantAndId(tenant.name, id);
  const secret = opts.key ?? (Object.hasOwn(tenant.keys, kid) ? tenant.keys[kid] : undefined);
  if (!secret) throw new RangeError(`tenant '${tenant.name}' has no key '${kid}'`);
  const exp = opts.exp ?? Math.floor((opts.now ?? Date.now()) / 1000) + (opts.ttl ?? DEFAULT_TTL);
  if (!Number.isInteger(exp) || exp < 1 || exp > 99_999_999_999) throw new RangeError('exp must be unix seconds (a positive integer)');

  const image: ImageParams = {};
  for (const name of IMAGE_PARAMS) {
    const value = opts.params?.[name];
    if (value !== undefined) image[name] = String(value);
  }
  const variant = canonicalize({ tenant: tenant.name, id }, image, null, tenant, opts.limits ?? LIMIT_DEFAULTS);
  const payload = signingPayload(variant, exp);
  const sig = await hmacSha256Base64url(secret, payload);
  const auth = `kid=${encodeURIComponent(kid)}&sig=${sig}`;
  const base = (opts.base ?? '').replace(/\/+$/, '');

  let templateUrl: string | null = null;
  if (!variant.negotiated && variant.width > 0 && variant.width === variant.height && variant.format !== 'jpeg-or-png' && variant.format !== 'avif-or-webp') {
    // Size and format move into the path; the other canonical params stay in the query.
    const q = new URLSearchParams(payload.slice(payload.indexOf('?') + 1));
    for (const name of ['fmt', 'w', 'h']) q.delete(name);
    templateUrl = `${base}/${tenant.name}/${id}/${variant.width}.${EXT[variant.format]}?${q.toString()}&${auth}`;
  }
  return { url: `${base}${payload}&${auth}`, templateUrl, payload, sig, exp, kid, variant };
}
