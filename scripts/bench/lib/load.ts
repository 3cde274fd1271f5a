/** autocannon over a list of paths: each request takes the next path, shared by all connections. */
import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  /** Completed requests per second over the whole run. */
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Paths handed out in order, once each (amount = paths.length) unless `duration` is set (then cycled). */
  paths: string[];
  duration?: number;
  headers?: Record<string, string>;
}

export async function load(o: LoadOptions): Promise<LoadResult> {
  let i = 0;
  const next = () => o.paths[i++ % o.paths.length]!;
  const started = performance.now();
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.duration ? { duration: o.duration } : { amount: o.paths.length }),
    headers: o.headers,
    timeout: 60,
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: next() }) }],
  });
  const seconds = (performance.now() - started) / 1000;
  const total = r.requests.total;
  return {
    requests: total,
    rps: total / Math.max(seconds, 1e-9),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds,
  };
}
