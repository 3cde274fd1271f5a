/**
 * The report's HTML page in Debian's Chromium (playwright-core, never a downloaded browser):
 * it renders offline as a file, its three charts have their marks, and the screenshot shows
 * them. Locally without /usr/bin/chromium the suite is skipped; in CI it fails instead.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReportCli } from '../../scripts/report/cli.js';
import { writeFixtureLog } from '../scripts/report-fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!HAVE_CHROMIUM && !IN_CI) console.warn(`[test/browser] SKIPPED: no Chromium at ${CHROMIUM}.`);
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOT = new URL('../../test-results/report-page.png', import.meta.url).pathname;
const VIEWPORT = { width: 820, height: 1200 };
const BLUE = [0x25, 0x63, 0xeb]; // the hit-ratio line (scripts/report/charts.ts)

/** Pixels of the image within `tolerance` of a colour. */
async function countColour(png: Buffer, [r, g, b]: number[], tolerance = 40): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i]! - r!) + Math.abs(data[i + 1]! - g!) + Math.abs(data[i + 2]! - b!) < tolerance) n++;
  return n;
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('report page in Chromium', () => {
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`Chromium not found at ${CHROMIUM}`);
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-report-page-'));
    await writeFixtureLog(join(dir, 'access.log'));
    const sink = { write: () => {} };
    expect(await runReportCli([join(dir, 'access.log'), '--out', join(dir, 'out')], { out: () => {}, err: () => {}, progress: sink })).toBe(0);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders the charts offline, and the screenshot shows them', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, offline: true });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'out/report.html')).href);

    // Nothing but the file itself was loaded.
    expect(requests).toEqual([pathToFileURL(join(dir, 'out/report.html')).href]);
    expect(problems).toEqual([]);
    const charts = await page.$$eval('svg[data-chart]', (svgs) =>
      svgs.map((s) => {
        const box = s.getBoundingClientRect();
        return {
          chart: s.getAttribute('data-chart'),
          width: Math.round(box.width),
          height: Math.round(box.height),
          marks: s.querySelectorAll('[data-series]').length,
          line: s.querySelector('polyline')?.getAttribute('points')?.split(' ').length ?? 0,
        };
      }),
    );
    expect(charts.map((c) => c.chart)).toEqual(['hit-ratio', 'latency', 'cost']);
    for (const c of charts) expect(c.width, c.chart!).toBeGreaterThan(600);
    // 10 minutes of log in 1-minute buckets: 8 minutes had image requests (a: 0-4, b: 5-6, 404: 9).
    expect(charts[0]!.line).toBeGreaterThanOrEqual(7);
    // p50, p90, p99 for 'all' and each of the five cache states seen.
    expect(charts[1]!.marks).toBe(3 * 6);
    expect(charts[2]!.marks).toBe(4);
    expect(await page.$eval('[data-stat="hit-ratio"] .v', (e) => e.textContent)).toBe('94.0 %');

    await mkdir(dirname(SCREENSHOT), { recursive: true });
    const shot = await page.screenshot({ path: SCREENSHOT });
    const meta = await sharp(shot).metadata();
    expect([meta.width, meta.height]).toEqual([VIEWPORT.width, VIEWPORT.height]);
    // Not blank: the page has many distinct colours, and the hit-ratio chart draws its blue line.
    const stats = await sharp(shot).stats();
    expect(Math.max(...stats.channels.map((c) => c.stdev))).toBeGreaterThan(10);
    const chartShot = await page.locator('svg[data-chart="hit-ratio"]').screenshot();
    expect(await countColour(chartShot, BLUE)).toBeGreaterThan(200);
    const costShot = await page.locator('svg[data-chart="cost"]').screenshot();
    await writeFile(SCREENSHOT.replace('.png', '-cost.png'), costShot);
    expect(await countColour(costShot, BLUE)).toBeGreaterThan(200);
    await context.close();
  }, 60_000);
});
