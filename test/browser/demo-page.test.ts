/**
 * The demo page and the URLs it hands out, in a real browser: Debian's Chromium driven by
 * playwright-core (never a downloaded browser). Locally, without /usr/bin/chromium, the suite
 * is skipped with a message; in CI (CI=true, where .ci/run installs it) it fails instead.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/core/auth/sign-url.js';
import { loadServiceConfig, type ServiceInput } from '../../src/core/config/service-config.js';
import { DEMO_CSS_SIZE, DEMO_IDS, DEMO_MISSING_IDS } from '../../src/http/demo-page.js';
import { startTestHost } from '../support/node-host.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`[test/browser] SKIPPED: no Chromium at ${CHROMIUM}. Install it with 'apt-get install chromium' (or set CHROMIUM_PATH); in CI this fails.`);
}

// The machine has no internet: without the background-networking flags Chromium keeps dialling out.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOT = new URL('../../test-results/demo-page.png', import.meta.url).pathname;

const CONFIG: ServiceInput = {
  tenants: {
    demo: { fallback: 'generated' },
    // Signed and hotlink-protected: pages on 127.0.0.1 (any port) may embed it, nothing else.
    secure: { requireSignature: true, keys: { k1: 'browser-test-key-not-a-secret' }, allowedReferers: ['127.0.0.1'] },
  },
};
// Query + template form per sample, one per missing id, and the signed query + template pair.
const IMAGE_COUNT = DEMO_IDS.length * 2 + DEMO_MISSING_IDS.length + 2;

/** A page on another origin that embeds one image, like a third-party site would. */
async function embeddingSite(host: string, imageUrl: string): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><title>embedder</title><img id="a" src="${imageUrl.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}" width="128" height="128">`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}/` };
}

const stop = (s?: Server) => new Promise<void>((resolve) => (s ? (s.closeAllConnections(), s.close(() => resolve())) : resolve()));

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('demo page in Chromium', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  let browser: Browser;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium package before the tests`);
    host = await startTestHost(CONFIG);
    // launch() starts Chromium on a fresh temporary user-data dir of its own and deletes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  for (const dpr of [1, 2]) {
    it(`loads every avatar at device pixel ratio ${dpr}: the srcset candidate for ${dpr}x, served as WebP`, async () => {
      const context = await browser.newContext({ deviceScaleFactor: dpr, viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      const responses: Promise<{ url: string; status: number; type: string | undefined; accept: string | undefined }>[] = [];
      page.on('response', (r) => {
        if (r.request().resourceType() !== 'image') return;
        // allHeaders(): the headers Chromium really sent (headers() is the provisional set, without Accept).
        responses.push(
          r
            .request()
            .allHeaders()
            .then((sent) => ({ url: r.url(), status: r.status(), type: r.headers()['content-type'], accept: sent.accept })),
        );
      });

      const doc = await page.goto(`${host.url}/`);
      expect(doc?.status()).toBe(200);
      expect(doc?.headers()['cache-control']).toBe('no-store');
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      // The network's view, before the probes below add memory-cache hits (which carry no request headers).
      const images = await Promise.all(responses);

      const seen = await page.$$eval('img', (imgs) =>
        Promise.all(
          imgs.map(async (img) => {
            // naturalWidth is in CSS pixels (divided by the candidate's density); a plain
            // Image of the chosen URL tells the pixels actually served.
            const probe = new Image();
            probe.src = img.currentSrc;
            await probe.decode().catch(() => undefined);
            return { src: img.currentSrc, complete: img.complete, natural: [img.naturalWidth, img.naturalHeight], pixels: probe.naturalWidth };
          }),
        ),
      );
      expect(seen).toHaveLength(IMAGE_COUNT);
      for (const img of seen) {
        expect(img, img.src).toMatchObject({ complete: true, natural: [DEMO_CSS_SIZE, DEMO_CSS_SIZE], pixels: DEMO_CSS_SIZE * dpr });
      }

      // What the network says: Chromium asked for WebP and got it, for every image.
      expect(images).toHaveLength(IMAGE_COUNT);
      for (const r of images) {
        expect(r, r.url).toMatchObject({ status: 200, type: 'image/webp' });
        expect(r.accept, r.url).toContain('image/webp');
      }
      // What the page shows, read from the response headers by its own script.
      const cards = await page.$$eval('[data-card]', (els) => els.map((e) => ({ ...(e as HTMLElement).dataset })));
      expect(cards).toHaveLength(IMAGE_COUNT);
      const px = DEMO_CSS_SIZE * dpr;
      for (const c of cards) {
        expect(c.type, c.src).toBe('image/webp');
        expect(c.variant, c.src).toMatch(new RegExp(`^(demo|secure)/[a-z0-9-]+/${px}x${px}-cover-q75\\.webp$`));
        expect(c.bytes, c.src).toMatch(/^\d+(\.\d)? k?B$/);
        expect(c.cache, c.src).toMatch(/^(MISS|HIT|STALE) → HIT now$/);
      }
      expect(cards.filter((c) => c.variant?.startsWith('secure/'))).toHaveLength(2);
      expect(problems).toEqual([]);

      if (dpr === 1) {
        await mkdir(dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      }
      await context.close();
    });
  }

  it('blocks a signed image hotlinked from a page on a disallowed origin, and loads it on an allowed one', async () => {
    const secure = loadServiceConfig(CONFIG).tenants.get('secure')!;
    const { url } = await signUrl({ tenant: secure, id: 'hopper', params: { w: 128, h: 128 }, kid: 'k1', base: host.url });
    const sites = [await embeddingSite('127.0.0.2', url), await embeddingSite('127.0.0.1', url)];
    try {
      const load = async (site: string) => {
        // A fresh context each time, so neither page gets the image from the other's cache.
        const context = await browser.newContext();
        const page = await context.newPage();
        // img error events do not bubble; a capturing listener on window sees them.
        await page.addInitScript(() => {
          const w = window as unknown as { imgErrors: number };
          w.imgErrors = 0;
          window.addEventListener('error', (e) => e.target instanceof HTMLImageElement && w.imgErrors++, true);
        });
        const sent = page.waitForRequest((r) => r.url() === url);
        const outcome = new Promise<string>((resolve) => {
          page.on('requestfinished', (r) => r.url() === url && resolve('finished'));
          page.on('requestfailed', (r) => r.url() === url && resolve(`failed: ${r.failure()?.errorText}`));
        });
        await page.goto(site);
        const referer = (await (await sent).allHeaders()).referer;
        const result = await outcome;
        const img = await page.$eval('#a', (el) => {
          const i = el as HTMLImageElement;
          const settled = i.complete ? Promise.resolve() : new Promise((ok) => ((i.onload = ok), (i.onerror = ok)));
          return settled.then(() => ({ naturalWidth: i.naturalWidth, errors: (window as unknown as { imgErrors: number }).imgErrors }));
        });
        await context.close();
        return { referer, result, ...img };
      };

      const denied = await load(sites[0]!.url);
      expect(denied.referer).toBe(sites[0]!.url);
      // The 403's JSON body never reaches the page: Chromium's ORB drops it (an image was expected).
      expect(denied).toMatchObject({ naturalWidth: 0, errors: 1 });
      expect(denied.result).toMatch(/^failed: /);
      // ...so ask the service directly what it answers to exactly that Referer.
      const replay = await fetch(url, { headers: { referer: denied.referer! } });
      expect(replay.status).toBe(403);
      expect(await replay.json()).toMatchObject({ code: 'HOTLINK_DENIED' });

      const allowed = await load(sites[1]!.url);
      expect(allowed.referer).toBe(sites[1]!.url);
      expect(allowed).toMatchObject({ result: 'finished', naturalWidth: 128, errors: 0 });
    } finally {
      await Promise.all(sites.map((s) => stop(s.server)));
    }
  });
});
