import { AUTH_PARAMS, IMAGE_PARAMS } from '../core/request/query.js';

/** One line of the access log (JSON). `npm run report` reads these. */
export interface AccessLogRecord {
  time: string;
  requestId: string;
  method: string;
  /** Path and query as received (at most MAX_URL characters). */
  url: string;
  route: string;
  status: number;
  /** From the canonical variant, or '' when the request never got one (errors, other routes). */
  tenant: string;
  id: string;
  /** The canonical variant key (X-Variant), '' when none. */
  variant: string;
  cache: string;
  /** Body bytes sent (0 for HEAD and 304); null when the response did not say. */
  bytes: number | null;
  durationMs: number;
  /** Server-Timing stages this request did itself: origin, decode, resize, encode. */
  timings: Record<string, number>;
  /** Query parameter names that did not reach the canonical key (utm_*, cache busters). */
  dropped: string[];
  clientIp?: string;
}

export const MAX_URL = 2048;

/** The tenant and image id of a canonical variant key (X-Variant), '' for none. */
export function variantParts(variant: string): { tenant: string; id: string } {
  // The first two segments, without splitting the whole key into an array and destructuring it.
  const a = variant.indexOf('/');
  if (a < 0) return { tenant: variant, id: '' };
  const b = variant.indexOf('/', a + 1);
  return { tenant: variant.slice(0, a), id: b < 0 ? variant.slice(a + 1) : variant.slice(a + 1, b) };
}

/** The cache state an answer's X-Cache names, or NONE (other routes, errors). */
export function cacheLabel(xCache: string | undefined): 'HIT' | 'MISS' | 'STALE' | 'NONE' {
  return xCache === 'HIT' || xCache === 'MISS' || xCache === 'STALE' ? xCache : 'NONE';
}

/** What a host knows of one request and its answer when it logs it. */
export interface LoggedExchange {
  time: string;
  request: Request;
  /** The request's path and query (`search` with its '?', or ''). */
  pathname: string;
  search: string;
  route: string;
  status: number;
  /** A header of the answer, by lowercase name. */
  header: (name: string) => string | undefined;
  /** The tenant to log (each host decides: variantParts(X-Variant).tenant first). */
  tenant: string;
  cache: string;
  durationMs: number;
  timings: Record<string, number>;
  /** loggedUrl(pathname, search) and droppedParams(search), when the host already has them (it keeps them per URL). */
  loggedUrl?: string;
  dropped?: string[];
}

/** The access log line of a request, on every host (the Fastly edge adds its own fields). */
export function accessLogRecord(x: LoggedExchange): AccessLogRecord {
  const variant = x.header('x-variant') ?? '';
  const length = x.header('content-length');
  const method = x.request.method;
  return {
    time: x.time,
    requestId: requestIdFor(x.request.headers.get('x-request-id')),
    method,
    url: x.loggedUrl ?? loggedUrl(x.pathname, x.search),
    route: x.route,
    status: x.status,
    tenant: x.tenant,
    id: variantParts(variant).id,
    variant,
    cache: x.cache,
    bytes: method === 'HEAD' || x.status === 304 || x.status === 204 ? 0 : length !== undefined ? Number(length) : null,
    durationMs: Math.round(x.durationMs * 100) / 100,
    timings: x.timings,
    dropped: x.dropped ?? (x.route === 'image' ? droppedParams(x.search) : []),
  };
}

/**
 * The route label of a path, on every host (the Fastly edge's request log included): image,
 * render, admin, upload, page, health, ready, metrics or other.
 */
export function routeOf(path: string): string {
  if (path === '/') return 'page';
  if (path === '/healthz') return 'health';
  if (path === '/readyz') return 'ready';
  if (path === '/metrics') return 'metrics';
  if (path.startsWith('/_admin')) return 'admin';
  if (path.startsWith('/_render/')) return 'render';
  if (path.startsWith('/_upload/')) return 'upload';
  if (path.startsWith('/_')) return 'other';
  return 'image';
}

/**
 * The URL as logged: path and query as received, without the signature's value (`sig=` is a
 * credential for that URL until it expires; logs travel further than the request did), at most
 * MAX_URL characters.
 */
export function loggedUrl(pathname: string, search: string): string {
  const query = search.length > 1 ? search.replace(/([?&]sig=)[^&]*/gi, '$1-') : search;
  return (pathname + query).slice(0, MAX_URL);
}
const KEPT = new Set<string>([...IMAGE_PARAMS, ...AUTH_PARAMS]);
const MAX_DROPPED = 16;

/** Names only (values may be personal data), each at most 64 characters, at most 16 of them. */
export function droppedParams(search: string): string[] {
  if (search.length <= 1) return [];
  const out = new Set<string>();
  for (const pair of search.slice(1).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    let name = eq < 0 ? pair : pair.slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: keep the raw name.
    }
    name = name.toLowerCase();
    if (!name || KEPT.has(name)) continue;
    out.add(name.slice(0, 64));
    if (out.size >= MAX_DROPPED) break;
  }
  return [...out];
}

/** `origin;dur=1.2, decode;dur=3` → { origin: 1.2, decode: 3 }; also says whether `coalesced` is there. */
export function parseServerTiming(header: string | undefined): { timings: Record<string, number>; coalesced: boolean } {
  const timings: Record<string, number> = {};
  let coalesced = false;
  if (!header) return { timings, coalesced };
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.trim().split(';');
    const name = rawName?.trim();
    if (!name) continue;
    if (name === 'coalesced') coalesced = true;
    if (name === 'cache' || name === 'total') continue;
    for (const p of params) {
      const m = /^\s*dur=([\d.]+)\s*$/.exec(p);
      if (m) timings[name] = Number(m[1]);
    }
  }
  return { timings, coalesced };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is a sane token, else a fresh UUID. */
export function requestIdFor(header: string | null): string {
  return header && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}
