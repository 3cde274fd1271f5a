import { vCpuTime } from 'fastly:compute';
import { env } from 'fastly:env';
import { Logger } from 'fastly:logger';

/** The log endpoint every request's line goes to: fastly.toml's [setup.log_endpoints] names it; Viceroy prints its lines. */
export const LOG_ENDPOINT = 'avatar_edge_log';

/** One structured line per request. No client IP and no query string (signatures, tracking params). */
export interface RequestLogLine {
  /** ISO time the request started. */
  t: string;
  pop: string;
  method: string;
  route: 'image' | 'render' | 'admin' | 'other';
  tenant?: string;
  /** Canonical variant key (x-variant), when the image pipeline resolved one. */
  variant?: string;
  /** HIT, MISS or STALE (x-cache). */
  cache?: string;
  stale?: string;
  status: number;
  /** Error code of a 4xx/5xx JSON answer. */
  code?: string;
  /** Wall time of the handler, ms. */
  ms: number;
  /** vCPU time of the execution so far, ms (Fastly's budget is 50 ms). */
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

/** Runs a handler and logs its line; the line is built from the response's own headers. */
export async function logged(request: Request, handle: () => Promise<Response>, log: RequestLog): Promise<Response> {
  const t0 = performance.now();
  const t = new Date().toISOString();
  let res = await handle();
  try {
    const line = lineFor(request, res, t, performance.now() - t0);
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

function lineFor(request: Request, res: Response, t: string, ms: number): RequestLogLine {
  const path = new URL(request.url).pathname;
  const first = path.split('/')[1] ?? '';
  const route: RequestLogLine['route'] = first === '_render' ? 'render' : first === '_admin' ? 'admin' : first && !first.startsWith('_') && first !== 'healthz' ? 'image' : 'other';
  const h = (n: string) => res.headers.get(n) ?? undefined;
  const line: RequestLogLine = { t, pop: env('FASTLY_POP') ?? '', method: request.method, route, status: res.status, ms: Math.round(ms * 100) / 100 };
  if (route === 'image') line.tenant = first;
  if (route === 'render') line.tenant = path.split('/')[2];
  const variant = h('x-variant');
  if (variant) line.variant = variant;
  const cache = h('x-cache');
  if (cache) line.cache = cache;
  const stale = h('x-stale-reason');
  if (stale) line.stale = stale;
  try {
    line.cpu = vCpuTime();
  } catch {
    // A runtime without vCpuTime: the line goes without it.
  }
  return line;
}
