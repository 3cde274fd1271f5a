/**
 * Where an S3 request goes: path-style (`https://host/bucket/key`) or virtual-hosted
 * (`https://bucket.host/key`), with keys encoded so the URL means exactly the key.
 */

export interface S3Location {
  endpoint: string;
  bucket: string;
  forcePathStyle: boolean;
}

/** encodeURIComponent leaves !'()* alone; SigV4 canonical paths encode them, so the URL does too. */
export function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Each segment encoded on its own so '/' stays a separator and nothing else is special. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/');
}

/** Virtual-hosted addressing is impossible on an IP literal or localhost: no DNS name to prefix. */
export function isIpOrLocalhost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');
}

/** Cloudflare R2's S3 endpoints: `<ACCOUNT_ID>.r2.cloudflarestorage.com` (and jurisdiction forms like `<ID>.eu.r2...`). */
export function isR2Host(hostname: string): boolean {
  return /\.r2\.cloudflarestorage\.com$/i.test(hostname);
}

/**
 * Path-style where virtual hosting cannot work (IPs, localhost) and for R2, whose dashboard
 * and docs give the path-style form (one hostname per account: one Fastly backend serves
 * every bucket). Virtual-hosted for AWS, its recommended form.
 */
export function defaultPathStyle(hostname: string): boolean {
  return isIpOrLocalhost(hostname) || isR2Host(hostname);
}

function base(loc: S3Location): { origin: string; path: string } {
  const u = new URL(loc.endpoint);
  // An endpoint may carry a path prefix (an S3 gateway mounted under /s3): keep it.
  const prefix = u.pathname.replace(/\/+$/, '');
  if (loc.forcePathStyle) return { origin: u.origin, path: `${prefix}/${encodeRfc3986(loc.bucket)}` };
  return { origin: `${u.protocol}//${loc.bucket}.${u.host}`, path: prefix };
}

export function objectUrl(loc: S3Location, key: string): string {
  const b = base(loc);
  return `${b.origin}${b.path}/${encodeKeyPath(key)}`;
}

/** The bucket resource with a query, e.g. for ListObjectsV2. Values are RFC 3986-encoded (space is %20, never '+'). */
export function bucketUrl(loc: S3Location, query: Record<string, string | undefined>): string {
  const b = base(loc);
  const qs = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
    .join('&');
  return `${b.origin}${b.path || ''}${loc.forcePathStyle ? '' : '/'}${qs ? `?${qs}` : ''}`;
}
