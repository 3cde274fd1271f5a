import { mapBounded } from '../../src/core/bounded.js';

export interface PublicProbe {
  path: string;
  accept: string;
}

export interface PublicCheck {
  checked: number;
  /** Answered 410. */
  gone: number;
  /** Answered another refusal (403 for a tenant that requires signatures, 404): they serve nothing, but were not proven gone. */
  refused: number;
  /** Still served (2xx/3xx) or not answered at all. */
  failures: { url: string; status: number | null; error?: string }[];
}

/** A few at a time: this is a handful of cheap 410s, not a load test. */
const CONCURRENCY = 4;

/**
 * Requests the URLs a takedown's verification listed from outside, the way a visitor would
 * (through the CDN, every POP's cache in front): the admin API checks its own cache and the
 * store without going to any backend, and this is the check that the public URLs answer 410.
 * Unsigned requests only: a tenant that requires signatures answers 403 to them.
 */
export async function checkFromOutside(baseUrl: string, probes: readonly PublicProbe[], fetchFn: typeof fetch = fetch): Promise<PublicCheck> {
  const base = baseUrl.replace(/\/+$/, '');
  const results = await mapBounded(probes, CONCURRENCY, async (p) => {
    try {
      const res = await fetchFn(base + p.path, { headers: { accept: p.accept }, redirect: 'manual' });
      await res.body?.cancel();
      return { url: p.path, status: res.status as number | null };
    } catch (err) {
      return { url: p.path, status: null, error: (err as Error).message };
    }
  });
  return {
    checked: results.length,
    gone: results.filter((r) => r.status === 410).length,
    refused: results.filter((r) => r.status !== null && r.status >= 400 && r.status !== 410).length,
    failures: results.filter((r) => r.status === null || r.status < 400),
  };
}

export function publicCheckLine(c: PublicCheck): string {
  const head = `from outside: ${c.gone}/${c.checked} public URLs answer 410${c.refused ? `, ${c.refused} refused unsigned (not proven gone)` : ''}${c.failures.length ? `, ${c.failures.length} STILL SERVED or unreachable` : ''}`;
  return (
    head +
    c.failures
      .slice(0, 5)
      .map((f) => `\n    ${f.status ?? `error ${f.error ?? ''}`} ${f.url}`)
      .join('')
  );
}
