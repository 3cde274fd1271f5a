import { Router, type IRequest } from 'itty-router';
import { errorResponse, HttpError, isHttpError } from '../core/errors.js';
import type { ConnInfo } from '../core/request/client-address.js';
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

/**
 * GET/HEAD URLs that no route before the image route can match: the path's first segment is
 * neither empty, nor `_…` (/_admin, /_render, /_upload), nor `healthz` (with any trailing
 * slashes, as itty-router matches it). Request URLs are serialized absolute URLs, so the path
 * starts at the first "/" after the authority.
 */
const IMAGE_ONLY_URL = /^https?:\/\/[^/]*\/(?!_|healthz\/*(?:[?#]|$))[^/?#]/;

/**
 * The only file that knows itty-router. Stages: route → catch (HttpError → JSON 4xx,
 * StorageError → logged, 502/503/504 without internals, anything else → logged, bare 500)
 * → finally (nothing leaks a stack trace).
 */
export function createRouter(routes: Routes): (request: Request, conn?: ConnInfo) => Promise<Response> {
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
  const head = (h: Handler | undefined) => async (req: IRequest) => {
    const r = await h?.(req as unknown as Request);
    return r && new Response(null, { status: r.status, headers: r.headers });
  };
  const health: Handler = () => new Response('ok\n', { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });

  router
    .get('/healthz', health)
    .head('/healthz', head(health))
    .all('/_admin/*', call(routes.admin))
    .all('/_admin', call(routes.admin))
    .get('/_render/*', call(routes.render))
    .all('/_upload/*', call(routes.upload))
    .get('/', call(routes.page))
    .head('/', head(routes.page))
    .get('*', call(routes.image))
    .head('*', call(routes.image))
    .all('*', unrouted);

  return async (request: Request, conn?: ConnInfo) => {
    // Image requests (nearly all traffic) go straight to the image route, with the same
    // outcome as the table above: itty-router would parse the URL, build a query object and
    // try each route first, on every cached hit.
    if ((request.method === 'GET' || request.method === 'HEAD') && IMAGE_ONLY_URL.test(request.url)) {
      try {
        return (await routes.image(request, conn)) ?? unrouted(request);
      } catch (err) {
        return onCatch(err, request);
      }
    }
    return (await router.fetch(request as unknown as IRequest, conn)) as Response;
  };
}
