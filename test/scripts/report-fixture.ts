import { writeFile } from 'node:fs/promises';

/**
 * An access log with answers known by construction (see test/scripts/report.test.ts):
 * tenant a: 40 requests of one variant under 2 raw URLs (half with utm_source), 1 MISS + 39 HIT;
 * tenant b: 10 requests of one variant under 10 raw URLs (cb=1..10), MISS, COALESCED, 3 STALE, 5 HIT;
 * a /healthz, a 404 for an unknown tenant, and 3 lines that are not records (55 lines, 52 records).
 */
export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function fixtureLines(): string[] {
  const rec = (at: number, r: Record<string, unknown>) =>
    JSON.stringify({
      time: new Date(at).toISOString(),
      requestId: `r${at}`,
      method: 'GET',
      route: 'image',
      status: 200,
      tenant: '',
      id: '',
      variant: '',
      cache: 'NONE',
      bytes: 1000,
      durationMs: 1,
      timings: {},
      dropped: [],
      ...r,
    });
  const render = { origin: 5, decode: 40, resize: 10, encode: 30 };
  const lines = ['avatar-edge listening on http://127.0.0.1:8080', 'storage: directory .data'];
  for (let i = 0; i < 40; i++) {
    const utm = i % 2 === 1;
    lines.push(
      rec(T0 + i * 7000, {
        url: utm ? '/a/x?w=64&utm_source=m' : '/a/x?w=64',
        tenant: 'a',
        id: 'x',
        variant: 'a/x/64x64-cover-q75.webp',
        cache: i === 0 ? 'MISS' : 'HIT',
        durationMs: i === 0 ? 100 : 1,
        timings: i === 0 ? render : {},
        dropped: utm ? ['utm_source'] : [],
      }),
    );
  }
  const bStates = ['MISS', 'COALESCED', 'STALE', 'STALE', 'STALE', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT'];
  bStates.forEach((cache, j) =>
    lines.push(
      rec(T0 + 300_000 + j * 10_000, {
        url: `/b/y?w=32&cb=${j + 1}`,
        tenant: 'b',
        id: 'y',
        variant: 'b/y/32x32-cover-q75.webp',
        cache,
        durationMs: cache === 'MISS' || cache === 'COALESCED' ? 200 : 2,
        timings: cache === 'MISS' ? render : {},
        dropped: ['cb'],
      }),
    ),
  );
  lines.push('{"not":"a record"}');
  lines.push(rec(T0 + 540_000, { url: '/healthz', route: 'health', bytes: 3 }));
  lines.push(rec(T0 + 570_000, { url: '/nobody/z?w=1', status: 404, bytes: null }));
  return lines;
}

export async function writeFixtureLog(path: string): Promise<void> {
  await writeFile(path, `${fixtureLines().join('\n')}\n`);
}

/** Prices that make each item's cost equal its count (in millions / GB), for exact checks. */
export const UNIT_PRICES = { currency: 'EUR', egressPerGB: 1e6, requestsPerMillion: 1e6, rendersPerMillion: 1e6, storeGetsPerMillion: 1e6 };
