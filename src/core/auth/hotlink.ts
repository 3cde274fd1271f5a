import type { Tenant } from '../config/tenant-config.js';
import { hotlinkDenied } from './auth-errors.js';

/**
 * Whether `hostname` (lowercase, no trailing dot) on `port` matches one allowlist entry:
 * - `example.com` matches exactly that host, on any port;
 * - `*.example.com` matches every subdomain at any depth (`a.example.com`, `a.b.example.com`)
 *   but NOT the apex `example.com` — list the apex separately when it embeds images too.
 *   (Subdomains only, like a wildcard certificate, so allowing a tenant's customers'
 *   subdomains never silently allows the parent site as well.)
 * - either form may pin a port: `localhost:8080`.
 */
export function hostMatches(pattern: string, hostname: string, port: string): boolean {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(pattern)!;
  const host = m[1]!;
  if (m[2] !== undefined && m[2] !== port) return false;
  if (host.startsWith('*.')) {
    const suffix = host.slice(1);
    return hostname.length > suffix.length && hostname.endsWith(suffix);
  }
  return hostname === host;
}

/** The embedding page's host from a Referer or Origin value; null when it is not an http(s) URL. */
export function pageHost(value: string): { hostname: string; port: string } | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return { hostname: url.hostname.toLowerCase().replace(/\.$/, ''), port };
}

/**
 * Hotlink protection. Off when the tenant's allowedReferers is empty. Otherwise the page is
 * taken from Referer, else from Origin (CORS loads, or pages whose referrer policy strips the
 * path). No page at all — no header, an empty one, or `Origin: null` from an opaque origin —
 * is the "empty referer" case that allowEmptyReferer decides: a page can always produce it
 * with `referrerpolicy="no-referrer"`, so allowing it trades protection for privacy-minded
 * browsers and direct visits. Anything present but unparsable is denied.
 * Header lengths are bounded beforehand (request/header-limits.ts).
 */
export function checkHotlink(request: Request, tenant: Pick<Tenant, 'allowedReferers' | 'allowEmptyReferer'>): void {
  if (tenant.allowedReferers.length === 0) return;
  const referer = request.headers.get('referer')?.trim() ?? '';
  const origin = request.headers.get('origin')?.trim() ?? '';
  const page = referer !== '' ? referer : origin !== 'null' ? origin : '';
  if (page === '') {
    if (tenant.allowEmptyReferer) return;
    throw hotlinkDenied();
  }
  const host = pageHost(page);
  if (!host || !tenant.allowedReferers.some((p) => hostMatches(p, host.hostname, host.port))) throw hotlinkDenied();
}
