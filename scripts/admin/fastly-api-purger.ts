import { backoffDelay, errorText, realSleep, type Sleep } from '../../src/core/bounded.js';
import type { PurgeKeyResult, Purger } from '../../src/core/purge/purger.js';

export interface FastlyApiPurgerOptions {
  serviceId: string;
  /** Fastly API token with purge_select scope (env FASTLY_API_TOKEN). */
  apiToken: string;
  /** https://api.fastly.com; a loopback http:// URL is allowed for tests. */
  apiBase?: string;
  /** Client-side rate limit, requests per second. */
  requestsPerSecond?: number;
  /** Attempts per batch on 429, 5xx and network errors. */
  attempts?: number;
  fetch?: typeof fetch;
  sleep?: Sleep;
  now?: () => number;
}

export const FASTLY_API = 'https://api.fastly.com';
/** Fastly's batch purge takes at most 256 keys per call. */
export const FASTLY_MAX_BATCH = 256;
/** Retry-After beyond this is not waited out: better to fail and let the operator decide. */
const MAX_RETRY_WAIT_MS = 60_000;

/** The API key travels in a header: only https, or plain http to loopback (the tests' fake API). */
export function checkApiBase(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`--api-base '${raw}' is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new Error('--api-base must be https (or http to 127.0.0.1 for tests)');
  if (u.search || u.hash || u.username || u.password) throw new Error('--api-base must be a plain base URL');
  return u.href.replace(/\/$/, '');
}

function retryAfterMs(res: Response, now: number): number | null {
  const ra = res.headers.get('retry-after');
  if (ra && /^\d{1,6}$/.test(ra.trim())) return Number(ra.trim()) * 1000;
  if (ra) {
    const at = Date.parse(ra);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = res.headers.get('fastly-ratelimit-reset');
  if (reset && /^\d{9,11}$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  return null;
}

/**
 * Purges surrogate keys through Fastly's API (`POST /service/{id}/purge`, keys in the
 * Surrogate-Key header, `fastly-soft-purge: 1` for soft), for the CLI. Rate limited on the
 * client side; 429 and 5xx are retried, honouring Retry-After / Fastly-RateLimit-Reset.
 * Other errors (401, 403, 404) fail the batch at once: repeating them cannot help.
 */
export function createFastlyApiPurger(opts: FastlyApiPurgerOptions): Purger & { requests(): number } {
  if (!/^[A-Za-z0-9]{1,64}$/.test(opts.serviceId)) throw new Error('the Fastly service id must be 1-64 letters and digits');
  if (!opts.apiToken) throw new Error('FASTLY_API_TOKEN is not set');
  const base = checkApiBase(opts.apiBase ?? FASTLY_API);
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? Date.now;
  const interval = 1000 / Math.max(0.01, opts.requestsPerSecond ?? 5);
  const attempts = Math.max(1, opts.attempts ?? 5);
  const policy = { attempts, baseDelayMs: 500, maxDelayMs: 15_000 };
  let nextSlot = 0;
  let requests = 0;

  async function slot(): Promise<void> {
    const t = now();
    const wait = nextSlot - t;
    nextSlot = Math.max(t, nextSlot) + interval;
    if (wait > 0) await sleep(wait);
  }

  return {
    maxBatch: FASTLY_MAX_BATCH,
    requests: () => requests,
    async purge(keys, soft): Promise<PurgeKeyResult[]> {
      const fail = (error: string) => keys.map((key) => ({ key, ok: false, error }));
      let lastError = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        await slot();
        let res: Response;
        try {
          requests++;
          res = await doFetch(`${base}/service/${opts.serviceId}/purge`, {
            method: 'POST',
            headers: {
              'fastly-key': opts.apiToken,
              'surrogate-key': keys.join(' '),
              accept: 'application/json',
              ...(soft ? { 'fastly-soft-purge': '1' } : {}),
            },
          });
        } catch (err) {
          lastError = `network: ${errorText(err)}`;
          if (attempt < attempts) await sleep(backoffDelay(attempt, policy));
          continue;
        }
        if (res.status === 429 || res.status >= 500) {
          lastError = `HTTP ${res.status}`;
          const wait = retryAfterMs(res, now()) ?? backoffDelay(attempt, policy);
          await res.body?.cancel();
          if (wait > MAX_RETRY_WAIT_MS) return fail(`${lastError}, retry after ${Math.round(wait / 1000)} s: giving up`);
          if (attempt < attempts) await sleep(wait);
          continue;
        }
        const text = await res.text();
        if (!res.ok) return fail(`HTTP ${res.status}: ${text.slice(0, 200)}`);
        let ids: Record<string, unknown>;
        try {
          ids = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return fail('the purge API answered something that is not JSON');
        }
        // The batch endpoint answers { "<key>": "<purge id>", ... }.
        return keys.map((key) => (typeof ids[key] === 'string' ? { key, ok: true, purgeId: ids[key] as string } : { key, ok: false, error: 'no purge id for this key in the response' }));
      }
      return fail(`${lastError} after ${attempts} attempts`);
    },
  };
}
