import { env } from 'fastly:env';
import { Logger } from 'fastly:logger';
import { cpuSince } from './cpu-time.js';
import { andThen, type MaybePromise } from '../../core/maybe-promise.js';
import { type AccessLogRecord, accessLogRecord, cacheLabel, droppedParams, loggedUrl, parseServerTiming, routeOf, variantParts } from '../../observability/access-log.js';

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
  /**
   * The answer's headers as the handler built them (lowercase names, a plain object), read
   * instead of the Response's: each read of those may be a host call. Unset: the Response's.
   */
  headers?: Record<string, string>;
}

/** The POP of this sandbox (the same for all its requests), read on its first logged request. */
let sandboxPop: string | undefined;

/**
 * Runs a handler and logs its line; the line is built from the response's own headers and
 * `facts`. An answer the handler has in hand is logged and passed on at once (a warm HIT:
 * core/maybe-promise.ts); only an error answer, whose JSON code is read, waits.
 */
export function logged(request: Request, handle: () => MaybePromise<Response>, log: RequestLog, facts: LoggedFacts = {}): MaybePromise<Response> {
  const t0 = performance.now();
  // The clock when the request came in; written out as text with the line, after the answer.
  const t = Date.now();
  return andThen(handle(), (res) => logLine(request, res, log, facts, t, t0));
}

function logLine(request: Request, res: Response, log: RequestLog, facts: LoggedFacts, startedAt: number, t0: number): MaybePromise<Response> {
  try {
    sandboxPop ??= env('FASTLY_POP') ?? '';
    // Set field by field: a spread is a builtin call per request under js-compute's interpreter.
    const known: LineFacts = { time: new Date(startedAt).toISOString(), ms: performance.now() - t0, pop: sandboxPop };
    if (facts.timings) known.timings = facts.timings;
    if (facts.headers) known.headers = facts.headers;
    const line = lineFor(request, res, known);
    // Errors are small JSON {code, message}: the code is what makes the line useful.
    if (res.status >= 400 && (res.headers.get('content-type') ?? '').includes('json')) return withErrorCode(res, line, log, facts);
    write(line, log, facts);
  } catch {
    // A broken logger is not the client's problem.
  }
  return res;
}

/** Reads an error answer's code into the line and answers a copy (the runtime's Response has no clone()). */
async function withErrorCode(res: Response, line: RequestLogLine, log: RequestLog, facts: LoggedFacts): Promise<Response> {
  let answer = res;
  try {
    const body = await res.arrayBuffer();
    answer = new Response(body, { status: res.status, headers: res.headers });
    const code = (JSON.parse(new TextDecoder().decode(body)) as { code?: unknown }).code;
    if (typeof code === 'string') line.code = code;
    write(line, log, facts);
  } catch {
    // A broken logger is not the client's problem.
  }
  return answer;
}

/** Adds the request's vCPU figure, read last so it covers the line itself too, and writes the line. */
function write(line: RequestLogLine, log: RequestLog, facts: LoggedFacts): void {
  const cpu = cpuSince(facts.cpuStart);
  if (cpu !== undefined) line.cpu = cpu;
  log(line);
}

/** What lineFor is given beside the request and its answer. */
export interface LineFacts {
  /** When the request came in (ISO 8601). */
  time: string;
  /** Its duration so far, ms. */
  ms: number;
  /** The POP; unset: read from the environment. */
  pop?: string;
  /** The stage timings, as numbers; unset: parsed from the answer's Server-Timing. */
  timings?: Record<string, number>;
  /** The answer's headers as built (LoggedFacts.headers); unset: the Response's. */
  headers?: Record<string, string>;
}

/** What a log line takes from the URL alone; the same for every request of that URL. */
interface UrlFacts {
  pathname: string;
  search: string;
  route: string;
  url: string;
  dropped: string[];
  /** The tenant named by the path, for a line whose answer names no variant. */
  pathTenant: string;
}

/** URLs seen by this sandbox (a repeated avatar is the common case), at most MAX_LOGGED_URLS, oldest out. */
const urls = new Map<string, UrlFacts>();
export const MAX_LOGGED_URLS = 1000;

function urlFacts(raw: string): UrlFacts {
  const known = urls.get(raw);
  if (known) return known;
  const { pathname, search } = new URL(raw);
  const route = routeOf(pathname);
  const segments = pathname.split('/');
  const facts: UrlFacts = {
    pathname,
    search,
    route,
    url: loggedUrl(pathname, search),
    dropped: Object.freeze(route === 'image' ? droppedParams(search) : []) as string[],
    pathTenant: route === 'image' ? (segments[1] ?? '') : route === 'render' ? (segments[2] ?? '') : '',
  };
  if (urls.size >= MAX_LOGGED_URLS) urls.delete(urls.keys().next().value!);
  urls.set(raw, facts);
  return facts;
}

/**
 * The line of one request, from the request and the response's headers (or the headers the
 * handler built, `facts.headers`). No fastly:compute call in here (the caller adds `cpu`):
 * snapshot-warmup.ts runs it at build time, where vCpuTime() aborts the build. What depends on
 * the URL alone (route, logged URL, dropped parameters) is worked out once per URL.
 */
export function lineFor(request: Request, res: Response, facts: LineFacts): RequestLogLine {
  const u = urlFacts(request.url);
  const known = facts.headers;
  const h = known ? (n: string) => known[n] : (n: string) => res.headers.get(n) ?? undefined;
  const line = accessLogRecord({
    time: facts.time,
    request,
    pathname: u.pathname,
    search: u.search,
    route: u.route,
    loggedUrl: u.url,
    dropped: u.dropped,
    status: res.status,
    header: h,
    tenant: variantParts(h('x-variant') ?? '').tenant || u.pathTenant,
    cache: cacheLabel(h('x-cache')),
    durationMs: facts.ms,
    timings: facts.timings ?? parseServerTiming(h('server-timing')).timings,
  }) as RequestLogLine;
  line.pop = facts.pop ?? env('FASTLY_POP') ?? '';
  const stale = h('x-stale-reason');
  if (stale) line.stale = stale;
  return line;
}
