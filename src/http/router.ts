import { errorResponse, HttpError, isHttpError } from '../core/errors.js';
import { isStorageError, originError } from './origin-error.js';

/** A route handler: a Response, or undefined for "not mine" so the next route is tried. */
export type Handler = (request: Request) => Promise<Response | undefined> | Response | undefined;

export interface Routes {
  /** GET/HEAD /{tenant}/{id} and /{tenant}/{id}/{size}.{ext} */
  image: Handler;
  /** GET / */
  page?: Handler;
  /** /_admin/* */
  admin?: Handler;
  /** GET /_render/* (renderer mode, see core/render-protocol.ts) */
  render?: Handler;
  /** /_upload/{tenant}/{id} (PUT an original; see docs/storage.md) */
  upload?: Handler;
  /** Logs unexpected errors (never sent to the client). */
  onError?: (err: unknown, request: Request) => void;
}

/**
 * A route's path: `/a` (that path), `/a/*` (`/a` and everything under it) or `*` (any path);
 * trailing slashes never matter. Method `ALL` takes any method.
 */
type Route = readonly [method: 'GET' | 'HEAD' | 'ALL', path: string, handler: Handler | undefined];

/**
 * The route table, in order: the first route whose method and path match answers; a handler
 * that answers undefined (or a route the app does not have) passes the request on to the next.
 * Nothing else routes: image requests (nearly all traffic) walk this same table, at the cost of
 * a few string comparisons.
 */
function routeTable(routes: Routes, health: Handler): Route[] {
  return [
    ['GET', '/healthz', health],
    ['HEAD', '/healthz', head(health)],
    ['ALL', '/_admin/*', routes.admin],
    ['GET', '/_render/*', routes.render],
    ['ALL', '/_upload/*', routes.upload],
    ['GET', '/', routes.page],
    ['HEAD', '/', routes.page && head(routes.page)],
    ['GET', '*', routes.image],
    ['HEAD', '*', routes.image],
  ];
}

/** HEAD of a GET-only route: same status and headers, no body. */
function head(h: Handler): Handler {
  return async (req) => {
    const r = await h(req);
    return r && new Response(null, { status: r.status, headers: r.headers });
  };
}

/** A path pattern (see Route) as a test of a pathname without its trailing slashes. */
function pathTest(path: string): (trimmed: string) => boolean {
  if (path === '*') return () => true;
  if (path.endsWith('/*')) {
    const base = trimSlashes(path.slice(0, -2));
    const under = `${base}/`;
    return (p) => p === base || p.startsWith(under);
  }
  const exact = trimSlashes(path);
  return (p) => p === exact;
}

function trimSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return end === path.length ? path : path.slice(0, end);
}

/**
 * The path of a Request's URL, as `new URL(url).pathname` (without parsing): request URLs are
 * serialized absolute http(s) URLs, so the path runs from the first "/" after the authority
 * to the first "?" or "#", neither of which a serialized path contains.
 */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  const end = query < 0 ? (hash < 0 ? url.length : hash) : hash < 0 ? query : Math.min(query, hash);
  return url.slice(start, end);
}

/**
 * The only router. Stages: route → catch (HttpError → JSON 4xx, StorageError → logged,
 * 502/503/504 without internals, anything else → logged, bare 500); nothing leaks a stack
 * trace. No route: 404 for GET and HEAD, 405 for other methods.
 */
export function createRouter(routes: Routes): (request: Request) => Promise<Response> {
  const onCatch = (err: unknown, request: Request): Response => {
    if (isHttpError(err)) return errorResponse(err);
    routes.onError?.(err, request);
    if (isStorageError(err)) return errorResponse(originError(err));
    return errorResponse(new HttpError(500, 'INTERNAL', 'internal error'));
  };
  const unrouted = (method: string): never => {
    const read = method === 'GET' || method === 'HEAD';
    throw read ? new HttpError(404, 'NOT_FOUND', 'not found') : new HttpError(405, 'METHOD_NOT_ALLOWED', 'only GET and HEAD are allowed here');
  };
  const health: Handler = () => new Response('ok\n', { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });
  const table = routeTable(routes, health)
    .filter((r): r is readonly [Route[0], string, Handler] => r[2] !== undefined)
    .map(([method, path, handler]) => ({ method, matches: pathTest(path), handler }));
  // The table's routes for each method, in the table's order.
  const only = (method: string) => table.filter((r) => r.method === method || r.method === 'ALL');
  const byMethod: Record<string, typeof table> = { GET: only('GET'), HEAD: only('HEAD') };
  const anyOther = only('');

  return async (request: Request) => {
    try {
      const path = trimSlashes(pathOf(request.url));
      const method = request.method;
      for (const route of byMethod[method] ?? anyOther) {
        if (!route.matches(path)) continue;
        const response = await route.handler(request);
        if (response) return response;
      }
      return unrouted(method);
    } catch (err) {
      return onCatch(err, request);
    }
  };
}
