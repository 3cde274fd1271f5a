import { bearerMatches } from '../core/constant-time.js';
import type { RequestCacheLabel, ServiceMetrics, AdminOp } from '../core/metrics/service-metrics.js';
import { accessLogRecord, cacheLabel, parseServerTiming, routeOf, variantParts } from './access-log.js';
import type { ConnInfo } from '../core/ports.js';
import { clientAddress } from '../core/request/client-address.js';
import type { OpsSettings } from './ops-settings.js';
import type { Readiness } from './readiness.js';

export type { ConnInfo };

export type FetchHandler = (request: Request, conn?: ConnInfo) => Promise<Response>;

export interface OpsDeps {
  /** The app; `conn` passes on the connection (the in-process rate limit keys on its address). */
  app: (request: Request, conn?: ConnInfo) => Promise<Response>;
  metrics: ServiceMetrics;
  readiness: Readiness;
  settings: Pick<OpsSettings, 'metricsToken' | 'metricsAddr' | 'accessLog' | 'clientIp'>;
  /** Configured tenant names: the only values the metrics' tenant label takes. */
  tenants: Iterable<string>;
  /** Where access log lines go (one JSON object, no newline); stdout on both hosts. */
  writeLine: (line: string) => void;
  log?: (msg: string, err?: unknown) => void;
}

export interface Ops {
  /** The main listener's handler: /readyz, /metrics (when served there), then the app. */
  fetch: FetchHandler;
  /** The metrics listener's handler (METRICS_ADDR): /metrics only. */
  metricsFetch: (request: Request) => Promise<Response>;
  /** Requests being handled now. */
  inFlight(): number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers } });

const ADMIN_OPS: readonly AdminOp[] = ['purge', 'takedown', 'erase', 'restore'];
const CODE = /^[A-Z][A-Z0-9_]{0,47}$/;

/**
 * Path and query of a serialized absolute URL without a URL parse per request (cache hits
 * are the hot path). Request URLs are normalized by the host: scheme://authority/path?query#….
 */
function splitUrl(href: string): { pathname: string; search: string } {
  const start = href.indexOf('/', href.indexOf('//') + 2);
  if (start < 0) return { pathname: '/', search: '' };
  let end = href.indexOf('#', start);
  if (end < 0) end = href.length;
  const q = href.indexOf('?', start);
  return q >= 0 && q < end ? { pathname: href.slice(start, q), search: href.slice(q, end) } : { pathname: href.slice(start, end), search: '' };
}

/**
 * A response's headers, read from the plain record it was made with when its Response kept
 * one (`headerRecord()`: the Node host's) so that no Headers is built per cache hit.
 */
function headerGetter(response: Response): (name: string) => string | undefined {
  const rec = (response as Response & { headerRecord?: () => Record<string, string> | undefined }).headerRecord?.();
  if (rec) return (name) => rec[name];
  return (name) => response.headers.get(name) ?? undefined;
}

/** GET /metrics: the exposition, behind the bearer token when one is configured. */
export async function metricsResponse(request: Request, metrics: ServiceMetrics, token: string | undefined): Promise<Response> {
  if (request.method !== 'GET') return json(405, { code: 'METHOD_NOT_ALLOWED', message: 'use GET /metrics' }, { allow: 'GET' });
  if (token !== undefined) {
    if (!(await bearerMatches(request.headers.get('authorization'), [token]))) return json(401, { code: 'UNAUTHORIZED', message: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
  }
  return new Response(await metrics.registry.exposition(), { headers: { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' } });
}

/** The METRICS_ADDR listener's handler: /metrics only. */
export function metricsListenerHandler(metrics: ServiceMetrics, token: string | undefined): (request: Request) => Promise<Response> {
  return async (request) => (new URL(request.url).pathname === '/metrics' ? metricsResponse(request, metrics, token) : json(404, { code: 'NOT_FOUND', message: 'only /metrics is served here' }));
}

/**
 * Wraps a host's app with what operations need: /readyz, /metrics behind a bearer token or on
 * its own listener, request metrics by route, status, cache state and tenant, admin outcomes,
 * and one access log line per request. Platform-neutral; each host adds the listener.
 */
export function createOps(deps: OpsDeps): Ops {
  const { metrics, settings } = deps;
  const tenants = new Set(deps.tenants);
  let inFlight = 0;
  const metricsOnMain = settings.metricsToken !== undefined && settings.metricsAddr === undefined;

  const serveMetrics = (request: Request) => metricsResponse(request, metrics, settings.metricsToken);

  async function serveReady(request: Request): Promise<Response> {
    const report = await deps.readiness.check();
    const body = report.ready ? report : { code: 'NOT_READY', message: 'not ready', ...report };
    const res = json(report.ready ? 200 : 503, body);
    return request.method === 'HEAD' ? new Response(null, { status: res.status, headers: res.headers }) : res;
  }

  async function adminOutcome(path: string, response: Response): Promise<void> {
    const op = ADMIN_OPS.find((o) => path === `/_admin/${o}`);
    if (!op) return;
    if (response.status < 300) return metrics.admin(op, 'ok', '');
    // Admin answers are small JSON: the stable error code says what failed.
    const code = await response
      .clone()
      .json()
      .then(
        (b: { code?: unknown }) => (typeof b.code === 'string' && CODE.test(b.code) ? b.code : ''),
        () => '',
      );
    metrics.admin(op, response.status >= 500 ? 'failed' : 'rejected', code);
  }

  async function handle(request: Request, conn?: ConnInfo): Promise<Response> {
    const t0 = performance.now();
    const url = splitUrl(request.url);
    const route = routeOf(url.pathname);
    inFlight++;
    metrics.inFlight(1);
    let response: Response;
    try {
      if (route === 'ready' && (request.method === 'GET' || request.method === 'HEAD')) response = await serveReady(request);
      else if (route === 'metrics' && metricsOnMain) response = await serveMetrics(request);
      else if (route === 'metrics') response = json(404, { code: 'NOT_FOUND', message: 'not found' });
      else response = await deps.app(request, conn);
    } finally {
      inFlight--;
      metrics.inFlight(-1);
    }
    const ms = performance.now() - t0;
    try {
      const header = headerGetter(response);
      const { timings, coalesced } = parseServerTiming(header('server-timing'));
      const cache: RequestCacheLabel = coalesced ? 'COALESCED' : cacheLabel(header('x-cache'));
      const vTenant = variantParts(header('x-variant') ?? '').tenant;
      const firstSegment = route === 'image' ? decodeURIComponent(url.pathname.split('/')[1] ?? '') : '';
      const tenant = tenants.has(vTenant) ? vTenant : tenants.has(firstSegment) ? firstSegment : '';
      metrics.request({ route, method: request.method === 'HEAD' ? 'HEAD' : request.method === 'GET' ? 'GET' : 'OTHER', status: response.status, cache, tenant, seconds: ms / 1000 });
      if (route === 'admin' && request.method === 'POST') await adminOutcome(url.pathname, response);
      if (settings.accessLog === 'stdout') {
        const record = accessLogRecord({ time: new Date().toISOString(), request, ...url, route, status: response.status, header, tenant, cache, durationMs: ms, timings });
        const ip = clientAddress(request, conn, settings.clientIp);
        if (ip !== undefined) record.clientIp = ip;
        deps.writeLine(JSON.stringify(record));
      }
    } catch (err) {
      // Observing must never fail the request it observes.
      deps.log?.('access log or metrics failed', err);
    }
    return response;
  }

  return {
    fetch: handle,
    metricsFetch: metricsListenerHandler(metrics, settings.metricsToken),
    inFlight: () => inFlight,
  };
}
