import { Router, type IRequest } from 'itty-router';
import { errorResponse, HttpError, isHttpError } from '../core/errors.js';
import { isPromise, type MaybePromise } from '../core/maybe-promise.js';
import type { ConnInfo } from '../core/ports.js';
import { isStorageError, originError } from './origin-error.js';

/**
 * A route handler: a Response, or undefined for "not mine" so the next route is tried. `conn`
 * is the connection the host passed along (the image route's rate limit keys on its address).
 */
export type Handler = (request: Request, conn?: ConnInfo) => Promise<Response | undefined> | Response | undefined;

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

type Method = 'get' | 'head' | 'all';
/** One route: method, itty-router path pattern, handler (absent when the app lacks the route). */
type Route = readonly [method: Method, path: string, handler: Handler | undefined];

/**
 * The route table, in order: itty-router tries the routes as listed, and a handler that answers
 * undefined (or a route the app does not have) passes the request on to the next.
 */
function routeTable(routes: Routes, health: Handler, head: (h: Handler | undefined) => Handler | undefined): Route[] {
  return [
    ['get', '/healthz', health],
    ['head', '/healthz', head(health)],
    ['all', '/_admin/*', routes.admin],
    ['all', '/_admin', routes.admin],
    ['get', '/_render/*', routes.render],
    ['all', '/_upload/*', routes.upload],
    ['get', '/', routes.page],
    ['head', '/', head(routes.page)],
    ['get', '*', routes.image],
    ['head', '*', routes.image],
  ];
}

/**
 * The first path segments the table's routes other than `*` name (`healthz`, `_admin`, …).
 * A GET or HEAD whose first segment is none of them (and not empty) can only match `*`: the
 * image route. Derived from the table, so the shortcut below cannot disagree with it.
 */
function reservedSegments(table: readonly Route[]): Set<string> {
  return new Set(table.filter(([, path]) => path !== '*').map(([, path]) => path.split('/')[1] ?? ''));
}

/**
 * The first segment of a serialized absolute URL's path (up to "/", "?" or "#"), without
 * parsing the URL: the router's image shortcut and the image route's client limit (the
 * tenant) run it on every cache hit.
 */
export function firstSegment(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2) + 1;
  if (start === 0) return '';
  let end = start;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // / ? #
    end++;
  }
  return url.slice(start, end);
}

/**
 * The only file that knows itty-router. Stages: route → catch (HttpError → JSON 4xx,
 * StorageError → logged, 502/503/504 without internals, anything else → logged, bare 500)
 * → finally (nothing leaks a stack trace).
 */
export function createRouter(routes: Routes): (request: Request, conn?: ConnInfo) => MaybePromise<Response> {
  const onCatch = (err: unknown, request: Request): Response => {
    if (isHttpError(err)) return errorResponse(err);
    routes.onError?.(err, request);
    if (isStorageError(err)) return errorResponse(originError(err));
    return errorResponse(new HttpError(500, 'INTERNAL', 'internal error'));
  };
  const unrouted = (req: { method: string }): never => {
    throw new HttpError(
      req.method === 'GET' || req.method === 'HEAD' ? 404 : 405,
      req.method === 'GET' || req.method === 'HEAD' ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED',
      req.method === 'GET' || req.method === 'HEAD' ? 'not found' : 'only GET and HEAD are allowed here',
    );
  };
  const router = Router<IRequest>({ catch: (err: unknown, request: IRequest) => onCatch(err, request as unknown as Request) });
  const call = (h: Handler | undefined) => (req: IRequest, conn?: ConnInfo) => h?.(req as unknown as Request, conn);
  // HEAD of a GET-only route: same status and headers, no body.
  const head = (h: Handler | undefined): Handler | undefined =>
    h &&
    (async (req, conn) => {
      const r = await h(req, conn);
      return r && new Response(null, { status: r.status, headers: r.headers });
    });
  const health: Handler = () => new Response('ok\n', { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });

  const table = routeTable(routes, health, head);
  for (const [method, path, handler] of table) router[method](path, call(handler));
  router.all('*', unrouted);
  const reserved = reservedSegments(table);

  return (request: Request, conn?: ConnInfo): MaybePromise<Response> => {
    // Image requests (nearly all traffic) go straight to the image route, the only one the
    // table has for their path: itty-router would parse the URL, build a query object and try
    // each route first, on every cached hit. An answer the route has in hand is passed on as it
    // is (a warm edge HIT: core/maybe-promise.ts).
    const first = request.method === 'GET' || request.method === 'HEAD' ? firstSegment(request.url) : '';
    if (first !== '' && !reserved.has(first)) {
      try {
        const answer = routes.image(request, conn);
        if (isPromise(answer)) return answer.then((r) => r ?? unrouted(request)).catch((err: unknown) => onCatch(err, request));
        return answer ?? unrouted(request);
      } catch (err) {
        return onCatch(err, request);
      }
    }
    return router.fetch(request as unknown as IRequest, conn) as Promise<Response>;
  };
}
