import { parseAuditQuery, parseEraseInput, parsePurgeInput, parseRestoreInput, parseTakedownInput } from '../core/admin/admin-input.js';
import { adminTokenId } from '../core/admin/admin-auth.js';
import { type AdminOutcome, type AdminService, createAdminService } from '../core/admin/admin-service.js';
import { createCachePurger } from '../core/purge/purger.js';
import type { ServiceConfig } from '../core/config/service-config.js';
import { errorResponse, HttpError, isHttpError } from '../core/errors.js';
import { createImageHandler } from '../core/delivery/image-handler.js';
import type { InFlightRegistry } from '../core/in-flight.js';
import type { Clock, ObjectStore, VariantCache, VariantLoader } from '../core/ports.js';
import type { Handler } from './router.js';
import { readLimitedBody } from '../core/upload/read-body.js';

/** Admin bodies are small JSON (at most 10 000 keys or 500 ids); anything bigger is refused unread. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface AdminRoutesDeps {
  service: AdminService;
  /** Token id → secret (config.admin.tokens). */
  tokens: Readonly<Record<string, string>>;
  clock?: Clock;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

function outcomeResponse(o: AdminOutcome): Response {
  if (o.ok) return json(200, o.body);
  // A split takedown or erasure whose part went through: not done, not failed; send `next` back.
  if (o.more) return json(202, o.body);
  const message =
    o.code === 'AUDIT_WRITE_FAILED'
      ? 'the operation was applied but its audit entry could not be written; repeat it (operations are idempotent)'
      : o.message
        ? `incomplete: ${o.message}; repeat the request (it is idempotent)`
        : 'some steps failed; see the per-key and per-image results, then repeat the request';
  return json(500, { code: o.code ?? 'INCOMPLETE', message, ...o.body });
}

async function readJson(request: Request): Promise<unknown> {
  // Counted as it streams: a chunked body is refused the moment it passes the limit.
  const bytes = await readLimitedBody(request, MAX_BODY_BYTES, () => new HttpError(413, 'BODY_TOO_LARGE', `the body must be at most ${MAX_BODY_BYTES} bytes`));
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'the body must be valid JSON');
  }
}

const POST_ROUTES = ['purge', 'takedown', 'erase', 'restore'] as const;

/**
 * /_admin/*: bearer token first (constant time; 401 without detail, before anything else is
 * looked at, so unauthenticated callers learn nothing, not even which paths exist), then JSON.
 */
export function createAdminRoutes(deps: AdminRoutesDeps): Handler {
  const now = () => (deps.clock ?? Date).now();
  return async (request) => {
    const who = await adminTokenId(request.headers.get('authorization'), deps.tokens);
    if (!who) throw new HttpError(401, 'UNAUTHORIZED', 'unauthorized', { 'www-authenticate': 'Bearer' });

    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/_admin\/?/, '');
    const method = request.method;
    const op = POST_ROUTES.find((r) => r === path);
    if (op) {
      if (method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use POST /_admin/${op}`, { allow: 'POST' });
      const body = await readJson(request);
      switch (op) {
        case 'purge':
          return outcomeResponse(await deps.service.purge(parsePurgeInput(body), who));
        case 'takedown':
          return outcomeResponse(await deps.service.takedown(parseTakedownInput(body), who));
        case 'erase':
          return outcomeResponse(await deps.service.erase(parseEraseInput(body), who));
        case 'restore':
          return outcomeResponse(await deps.service.restore(parseRestoreInput(body), who));
      }
    }
    if (path === 'audit' || path.startsWith('audit/')) {
      if (method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET for the audit log', { allow: 'GET' });
      if (path === 'audit') return json(200, await deps.service.audit(parseAuditQuery(url.searchParams, now())));
      return json(200, await deps.service.auditEntry(path.slice('audit/'.length)));
    }
    throw new HttpError(404, 'NOT_FOUND', 'admin endpoints: POST purge, takedown, erase, restore; GET audit, audit/{id}');
  };
}

export interface AdminHandlerDeps {
  config: ServiceConfig;
  store: ObjectStore;
  cache: VariantCache;
  loader: VariantLoader;
  /** The app's renders and uploads in flight, fenced by takedowns. */
  inFlight?: InFlightRegistry;
}

/**
 * The admin API of the hosts that cache in process (Node, Deno): purges go to the cache, and
 * takedowns are verified through the image pipeline itself (cache + loader). Verification
 * skips signature and hotlink checks on purpose: they would answer 403 in front of a leak.
 */
export function createInProcessAdmin(deps: AdminHandlerDeps): Handler {
  const pipeline = createImageHandler({ config: deps.config, cache: deps.cache, loader: deps.loader });
  const fetch = async (req: Request): Promise<Response> => {
    try {
      return await pipeline(req);
    } catch (err) {
      if (isHttpError(err)) return errorResponse(err);
      throw err;
    }
  };
  const service = createAdminService({ store: deps.store, purger: createCachePurger(deps.cache), config: deps.config, fetch, ...(deps.inFlight ? { inFlight: deps.inFlight } : {}) });
  return createAdminRoutes({ service, tokens: deps.config.admin.tokens });
}
