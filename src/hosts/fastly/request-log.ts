import { env } from 'fastly:env';
import { Logger } from 'fastly:logger';
import { cpuSince } from './cpu-time.js';
import { type AccessLogRecord, accessLogRecord, cacheLabel, parseServerTiming, routeOf, variantParts } from '../../observability/access-log.js';

/** The log endpoint every request's line goes to: fastly.toml's [setup.log_endpoints] names it; Viceroy prints its lines. */
export const LOG_ENDPOINT = 'avatar_edge_log';

/**
 * One structured line per request, in the access log's shape on every host
 * (observability/access-log.ts, read by `npm run report`), plus what only the edge knows: the
 * POP, the execution's vCPU time, the stale reason and the error code. No client address; the
 * signature's value is left out of the URL.
 */
export interface RequestLogLine extends AccessLogRecord {
  pop: string;
  /** Why a stale copy was served (X-Stale-Reason). */
  stale?: string;
  /** Error code of a 4xx/5xx JSON answer. */
  code?: string;
  /** vCPU time of this request, ms (Fastly's budget is 50 ms per request). */
  cpu?: number;
}

export type RequestLog = (line: RequestLogLine) => void;

/**
 * Writes lines as JSON to LOG_ENDPOINT with fastly:logger. Logging must never fail a request:
 * a missing endpoint or a runtime without one is silently a no-op.
 */
export function createEndpointLog(name: string = LOG_ENDPOINT): RequestLog {
  let logger: Logger | null | undefined;
  return (line) => {
    try {
      logger ??= new Logger(name);
      logger.log(JSON.stringify(line));
    } catch {
      logger = null;
    }
  };
}

/** What the request's handler knows that the line would otherwise read back from the response. */
export interface LoggedFacts {
  /** cpuNow() when the request started (the line's `cpu` is the difference). */
  cpuStart?: number;
  /** The stage timings the response's Server-Timing carries, as numbers; unset: parsed from the header. */
  timings?: Record<string, number>;
}

/** Runs a handler and logs its line; the line is built from the response's own headers and `facts`. */
export async function logged(request: Request, handle: () => Promise<Response>, log: RequestLog, facts: LoggedFacts = {}): Promise<Response> {
  const t0 = performance.now();
  const t = new Date().toISOString();
  let res = await handle();
  try {
    const line = lineFor(request, res, t, performance.now() - t0, cpuSince(facts.cpuStart), facts.timings);
    if (res.status >= 400 && (res.headers.get('content-type') ?? '').includes('json')) {
      // Errors are small JSON {code, message}: the code is what makes the line useful. Read
      // and re-wrapped (the runtime's Response has no clone()).
      const body = await res.arrayBuffer();
      res = new Response(body, { status: res.status, headers: res.headers });
      const code = (JSON.parse(new TextDecoder().decode(body)) as { code?: unknown }).code;
      if (typeof code === 'string') line.code = code;
    }
    log(line);
  } catch {
    // A broken logger is not the client's problem.
  }
  return res;
}

/**
 * The line of one request, from the request and the response's own headers. No fastly:compute
 * call in here (the caller passes `cpu`): snapshot-warmup.ts runs it at build time, where
 * vCpuTime() aborts the build. `timings`, when the caller has them, saves parsing the
 * Server-Timing header back.
 */
export function lineFor(request: Request, res: Response, time: string, ms: number, cpu?: number, timings?: Record<string, number>): RequestLogLine {
  const { pathname, search } = new URL(request.url);
  const route = routeOf(pathname);
  const h = (n: string) => res.headers.get(n) ?? undefined;
  const segments = pathname.split('/');
  const line: RequestLogLine = {
    ...accessLogRecord({
      time,
      request,
      pathname,
      search,
      route,
      status: res.status,
      header: h,
      tenant: variantParts(h('x-variant') ?? '').tenant || (route === 'image' ? (segments[1] ?? '') : route === 'render' ? (segments[2] ?? '') : ''),
      cache: cacheLabel(h('x-cache')),
      durationMs: ms,
      timings: timings ?? parseServerTiming(h('server-timing')).timings,
    }),
    pop: env('FASTLY_POP') ?? '',
  };
  const stale = h('x-stale-reason');
  if (stale) line.stale = stale;
  if (cpu !== undefined) line.cpu = cpu;
  return line;
}
