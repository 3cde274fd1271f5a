/**
 * A closed-loop client for render-bound load: `concurrency` requests in flight, each taking the
 * next path of the list, every response read to the end and timed from send to last byte.
 * Renders take tens to thousands of ms, so fetch's own overhead (well under 1 ms) is noise.
 */
export interface Outcome {
  path: string;
  status: number;
  /** Machine-readable error code of a JSON error body, when there is one. */
  code?: string;
  contentType: string;
  bytes: number;
  /** Send to last byte, ms. */
  ms: number;
  /** performance.now() at send and at the last byte. */
  start: number;
  end: number;
  /** Network error or timeout (status 0). */
  error?: string;
}

export interface RunResult {
  outcomes: Outcome[];
  /** Wall time from the first send to the last answer, s. */
  seconds: number;
}

export async function fetchOne(url: string, path: string, o: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Outcome> {
  const start = performance.now();
  try {
    const res = await fetch(url + path, { headers: o.headers, signal: AbortSignal.timeout(o.timeoutMs ?? 120_000) });
    const body = new Uint8Array(await res.arrayBuffer());
    const end = performance.now();
    const contentType = res.headers.get('content-type') ?? '';
    let code: string | undefined;
    if (contentType.startsWith('application/json')) {
      try {
        code = (JSON.parse(new TextDecoder().decode(body)) as { code?: string }).code;
      } catch {
        /* not our JSON */
      }
    }
    return { path, status: res.status, code, contentType, bytes: body.byteLength, ms: end - start, start, end };
  } catch (e) {
    const end = performance.now();
    return { path, status: 0, contentType: '', bytes: 0, ms: end - start, start, end, error: (e as Error).name === 'TimeoutError' ? 'timeout' : (e as Error).message };
  }
}

export async function runClosedLoop(url: string, paths: readonly string[], o: { concurrency: number; headers?: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  const outcomes: Outcome[] = new Array(paths.length);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) outcomes[i] = await fetchOne(url, paths[i]!, o);
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, paths.length) }, worker));
  return { outcomes, seconds: (performance.now() - t0) / 1000 };
}

/** Nearest-rank percentile of a list of numbers (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** "200 ×38, 415 UNSUPPORTED ×2": the statuses (and error codes) a list of outcomes got. */
export function statusSummary(os: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of os) {
    const k = o.status === 0 ? (o.error ?? 'error') : o.code ? `${o.status} ${o.code}` : String(o.status);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ');
}
