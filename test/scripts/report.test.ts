import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReportCli } from '../../scripts/report/cli.js';
import type { ReportData } from '../../scripts/report/aggregate.js';
import { createDistinctCounter } from '../../scripts/report/distinct.js';
import { createLatencyHistogram } from '../../scripts/report/latency.js';
import { UNIT_PRICES, writeFixtureLog } from './report-fixture.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  return { out, err, progress, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), progress: { write: (t: string) => progress.push(t) } } };
}

describe('npm run report', () => {
  let dir: string;
  let data: ReportData;
  let markdown: string;
  let html: string;
  let run: ReturnType<typeof io>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-report-'));
    await writeFixtureLog(join(dir, 'access.log'));
    await writeFile(join(dir, 'prices.json'), JSON.stringify(UNIT_PRICES));
    run = io();
    const code = await runReportCli([join(dir, 'access.log'), '--out', join(dir, 'out'), '--prices', join(dir, 'prices.json'), '--price-renders-million', '2000000'], run.io);
    expect(code, run.err.join('\n')).toBe(0);
    data = JSON.parse(await readFile(join(dir, 'out/report.json'), 'utf8')) as ReportData;
    markdown = await readFile(join(dir, 'out/report.md'), 'utf8');
    html = await readFile(join(dir, 'out/report.html'), 'utf8');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('hit ratio overall and per tenant', () => {
    expect(data.lines).toEqual({ read: 55, skipped: 3 });
    expect(data.totals).toMatchObject({ requests: 52, cacheable: 50, hits: 44, stale: 3, misses: 2, coalesced: 1, renders: 2, bytes: 50_003, storeGets: 10 });
    expect(data.totals.hitRatio).toBeCloseTo(47 / 50, 10);
    expect(data.totals.offload).toBeCloseTo(48 / 50, 10);
    expect(data.tenants).toEqual([
      { tenant: 'a', requests: 40, hitRatio: 39 / 40, renders: 1, bytes: 40_000 },
      { tenant: 'b', requests: 10, hitRatio: 8 / 10, renders: 1, bytes: 10_000 },
      { tenant: '(none)', requests: 1, hitRatio: 0, renders: 0, bytes: 0 },
    ]);
    expect(markdown).toContain('Hit ratio (HIT + STALE): **94.0 %**');
    expect(markdown).toMatch(/\| a \| 40 \| 97\.5 % \| 1 \| 40\.0 kB \|/);
  });

  it('distinct canonical variants vs raw URLs: the ceiling with and without canonical keys', () => {
    expect(data.ceiling).toEqual({ imageRequests: 50, distinctVariants: 2, distinctUrls: 12, exact: true, withCanonicalKeys: 1 - 2 / 50, withRawUrls: 1 - 12 / 50 });
    expect(markdown).toContain('| canonical variant | 2 | 96.0 % |');
    expect(markdown).toContain('| raw URL | 12 | 76.0 % |');
  });

  it('top dropped parameters, renders per minute, latency percentiles', () => {
    expect(data.droppedParams).toEqual([
      { name: 'utm_source', requests: 20 },
      { name: 'cb', requests: 10 },
    ]);
    // 2 renders over minutes 0..9 of the log; one render in the busiest minute.
    expect(data.rendersPerMinute).toEqual({ mean: 0.2, peak: 1, peakAt: '2026-01-01T00:00:00.000Z' });
    const hit = data.latency.find((l) => l.state === 'HIT')!;
    expect(hit.count).toBe(44);
    // Percentiles are bucket bounds within 10 %: 39 HITs at 1 ms, 5 at 2 ms.
    expect(hit.p50).toBeGreaterThanOrEqual(1);
    expect(hit.p50).toBeLessThan(1.1);
    expect(hit.p99).toBeGreaterThanOrEqual(2);
    expect(hit.p99).toBeLessThan(2.2);
    expect(data.latency.map((l) => l.state)).toEqual(['all', 'HIT', 'STALE', 'MISS', 'COALESCED', 'NONE']);
  });

  it('monthly cost from the configured prices (file, then flags)', () => {
    expect(data.span.minutes).toBe(9.5);
    expect(data.cost.monthFactor).toBeCloseTo(43_200 / 9.5, 10);
    const observed = Object.fromEntries(data.cost.items.map((i) => [i.item, i.observed]));
    // Each price is per million (or per GB) = 1e6: the cost is the count; renders cost 2 each (flag).
    expect(observed.egress).toBeCloseTo(50.003, 9);
    expect(observed.requests).toBeCloseTo(52, 9);
    expect(observed.renders).toBeCloseTo(4, 9);
    expect(observed['store GETs']).toBeCloseTo(10, 9);
    expect(data.cost.monthlyTotal).toBeCloseTo((116.003 * 43_200) / 9.5, 6);
    expect(data.cost.prices.currency).toBe('EUR');
    expect(markdown).toContain(`| **total** | | | 116.00 EUR | **${((116.003 * 43_200) / 9.5).toFixed(2)} EUR** |`);
  });

  it('writes a self-contained HTML page with three charts, and reports progress', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    for (const chart of ['hit-ratio', 'latency', 'cost']) expect(html).toContain(`data-chart="${chart}"`);
    expect(run.out.join('\n')).toMatch(/hit ratio 94\.0 % over 50 image requests; 2 renders/);
    expect(run.progress.join('')).toMatch(/^report: \d+\/\d+ \(100%\) bytes read/m);
  });

  it('escapes what the log says (tenant names, parameters are untrusted)', async () => {
    const line = JSON.stringify({
      time: '2026-01-01T00:00:00Z',
      method: 'GET',
      url: '/x',
      route: 'image',
      status: 200,
      tenant: '<b>t</b>',
      variant: 'v',
      cache: 'HIT',
      bytes: 1,
      durationMs: 1,
      dropped: ['<script>'],
    });
    await writeFile(join(dir, 'evil.log'), `${line}\n`);
    const r = io();
    expect(await runReportCli([join(dir, 'evil.log'), '--out', join(dir, 'evil')], r.io)).toBe(0);
    const page = await readFile(join(dir, 'evil/report.html'), 'utf8');
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;b&gt;t&lt;/b&gt;');
  });

  it('usage errors exit 2 with the help text', async () => {
    const r = io();
    expect(await runReportCli([], r.io)).toBe(2);
    expect(r.err.join('\n')).toMatch(/access log file is missing[\s\S]*usage: npm run report/);
    const h = io();
    expect(await runReportCli(['--help'], h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(/--price-egress-gb/);
    const bad = io();
    expect(await runReportCli(['x.log', '--price-egress-gb', '-1'], bad.io)).toBe(2);
  });
});

describe('report building blocks', () => {
  it('counts distinct values exactly up to the limit, then estimates within a few percent', () => {
    const c = createDistinctCounter(1000);
    for (let i = 0; i < 500; i++) c.add(`u${i % 250}`);
    expect([c.count(), c.exact()]).toEqual([250, true]);
    for (let i = 0; i < 50_000; i++) c.add(`v${i}`);
    expect(c.exact()).toBe(false);
    expect(Math.abs(c.count() - 50_250) / 50_250).toBeLessThan(0.03);
  });

  it('latency percentiles land within 10 % of the true value', () => {
    const h = createLatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.add(i);
    for (const p of [50, 90, 99]) {
      const truth = p * 10;
      expect(h.percentile(p)).toBeGreaterThanOrEqual(truth);
      expect(h.percentile(p)).toBeLessThan(truth * 1.1);
    }
  });
});
