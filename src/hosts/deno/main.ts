/**
 * The Deno host (local `deno run` and Deno Deploy): the same pipeline as Node, wired to Deno.
 * Run the bundle, not this file: `npm run build:deno` → `dist/deno/main.js` (our imports use
 * Node-style `.js` specifiers and npm packages, which the bundle resolves once, offline).
 *
 *   full mode      the public image API, plus /_render/* when RENDER_SECRET is set
 *   renderer mode  only /_render/* (the backend a Fastly service sends its misses to)
 *
 * This is the only file that touches `Deno.*`; settings, store and codec loading are plain
 * modules tested under vitest. Every variable is listed in docs/deno.md.
 */
import { pathToFileURL } from 'node:url';
import { createMemoryCache } from '../../cache/memory-cache.js';
import { createAuthorizer } from '../../core/auth/create-authorizer.js';
import { ConfigError, type Limits } from '../../core/config/service-config.js';
import type { Renderer } from '../../core/ports.js';
import type { Variant } from '../../core/variant.js';
import { describeRateLimits } from '../../core/limits/rate-limits.js';
import { RenderRefused } from '../../core/limits/neighbour-fallback.js';
import { createApp } from '../../http/create-app.js';
import { createImageLimits } from '../../http/limited-image-route.js';
import { createDemoPage } from '../../http/demo-page.js';
import { createCodecs } from '../../render/codecs.js';
import { createGeneratedFallback } from '../../render/fallback/create-fallback.js';
import type { CodecModules } from '../../render/codec-modules.js';
import { startInlineThread } from '../../render/scheduler/inline-thread.js';
import type { RenderMetrics } from '../../core/metrics/ports.js';
import { createRenderScheduler, RECYCLE_AFTER_PIXELS_UNCOLLECTED, type RenderScheduler } from '../../render/scheduler/pool.js';
import { stallWarning } from '../../render/scheduler/settings.js';
import { startWebWorkerThread } from '../../render/scheduler/web-worker-thread.js';
import { createHostOps } from '../../observability/host-ops.js';
import { describeOps } from '../../observability/ops-settings.js';
import { createTextRegistry } from '../../observability/text-registry.js';
import { describeStorage } from '../../storage/config.js';
import { nodeHmacSha256Base64url } from '../node-compat/node-crypto-hmac.js';
import { nodeSha256Hex } from '../node-compat/node-crypto-sha256.js';
import { createStore, DEFAULT_DATA_DIR } from './create-store.js';
import { lazyDenoFocalFinder } from './face-model.js';
import { loadCodecModules } from './load-wasm.js';
import { type DenoSettings, loadDenoSettings } from './settings.js';
import { hostLog } from '../../observability/host-log.js';

const log = hostLog;

async function main(): Promise<void> {
  const env = Deno.env.toObject();
  const settings = await loadDenoSettings(env, (path) => Deno.readTextFile(path), navigator.hardwareConcurrency);
  const { config, mode } = settings;
  if (settings.storage.kind === 'fs') checkStoreDirectory(settings.storage.dataDir ?? DEFAULT_DATA_DIR);
  const stall = stallWarning(settings.render);
  if (stall) log(stall);
  // Metrics, access log, /readyz: docs/operations.md. Metrics via text-registry.ts (prom-client does not bundle for Deno).
  let codecsWarm = false;
  const ops = createHostOps({
    env,
    config,
    registry: createTextRegistry,
    store: () => store,
    codecsReady: () => codecsWarm,
    log,
    writeLine: (line) => console.log(line),
  });

  // Next to the bundle (dist/deno/wasm/), where the build copies the pinned binaries.
  const wasmDir = settings.wasmDir ? (settings.wasmDir.startsWith('file:') ? new URL(settings.wasmDir) : pathToFileURL(`${settings.wasmDir}/`)) : new URL('./wasm/', import.meta.url);
  // Serve at once and bring the renderer up alongside: Deno Deploy starts instances on demand,
  // and requests answered from the cache or the variant store need no codec. Renders wait for
  // it; a broken binary still stops the process (every thread's warm-up checks every codec).
  const t0 = performance.now();
  const modules = loadCodecModules(wasmDir, (url) => Deno.readFile(url));
  const scheduler = modules.then((m) => startScheduler(m, settings.render, config.limits, ops.metrics.renderScheduler));
  scheduler.then(
    // "codecs ready": what scripts (the bench) wait for before timing the first render.
    (s) => ((codecsWarm = true), console.log(`  renderer ready in ${(performance.now() - t0).toFixed(0)} ms: ${describeScheduler(s)} (codecs ready)`)),
    (err) => {
      hostLog('codecs failed to start:', err);
      Deno.exit(1);
    },
  );
  const renderer: Renderer = ops.wrapRenderer({ render: async (source, variant, opts) => (await scheduler).render(source, variant, opts) });
  // Generated avatars for tenants with fallback 'generated', encoded on this thread.
  const generated = scheduler.then(() => modules).then((m) => createGeneratedFallback(createCodecs(m)));
  generated.catch(() => {}); // a codec failure is reported (and ends the process) above
  const fallback = async (variant: Variant) => (await generated)(variant);

  const store = createStore(settings.storage, log, ops.wrapStore);
  const cache = createMemoryCache({
    maxBytes: settings.cacheMaxBytes,
    // A refresh the render budget refused keeps the stale copy, as intended: nothing to report.
    onRefreshError: (key, err) => err instanceof RenderRefused || log(`refresh of ${key} failed`, err),
  });
  const app = createApp({
    config,
    store,
    cache,
    renderer,
    fallback,
    page: settings.demoPage ? createDemoPage({ config }) : undefined,
    renderSecrets: settings.renderSecrets,
    mode,
    log,
    // Deno's node:crypto HMAC is synchronous; crypto.subtle's is a round trip per signed request.
    authorize: createAuthorizer({ hmac: nodeHmacSha256Base64url }),
    // Per isolate: Deno Deploy runs several, each with its own counts.
    limits: createImageLimits({ limits: settings.rateLimits, clientIp: ops.settings.clientIp, onRefused: ops.metrics.rateLimited }),
  });
  const handler = ops.wrapFetch(app.fetch);

  const server = Deno.serve(
    {
      hostname: settings.hostname,
      port: settings.port,
      onListen: ({ hostname, port }: { hostname: string; port: number }) => {
        const render = settings.renderSecrets.length ? ', render route on' : '';
        const demo = settings.demoPage && mode === 'full' ? `; demo page: http://${hostname}:${port}/` : '';
        console.log(`avatar-edge (deno, ${mode}${render}) listening on http://${hostname}:${port}`);
        console.log(`  config: ${settings.configSource}; tenants: ${[...config.tenants.keys()].join(', ')}`);
        console.log(`  storage: ${describeStorage(settings.storage)}${demo}`);
        console.log(`  operations: ${describeOps(ops.settings)}`);
        if (mode === 'full') console.log(`  rate limits: ${describeRateLimits(settings.rateLimits)}`);
      },
      // The router already turns every error into a response; this is the last line of defence.
      onError: (err: unknown) => {
        log('unhandled error', err);
        return new Response(JSON.stringify({ code: 'INTERNAL', message: 'internal error' }), {
          status: 500,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        });
      },
    },
    (request: Request, info: { remoteAddr: { hostname?: string } }) => handler(request, { remoteAddress: info.remoteAddr.hostname }),
  );
  const metricsServer = ops.settings.metricsAddr
    ? Deno.serve(
        {
          hostname: ops.settings.metricsAddr.host,
          port: ops.settings.metricsAddr.port,
          onListen: ({ hostname, port }: { hostname: string; port: number }) => console.log(`  metrics on http://${hostname}:${port}/metrics`),
        },
        ops.metricsFetch,
      )
    : undefined;

  // Finish in-flight requests on SIGTERM/SIGINT (Deno Deploy sends SIGINT, then SIGKILL 5 s later).
  const stop = () => {
    ops.readiness.setDraining();
    void Promise.all([server.shutdown(), metricsServer?.shutdown()]).then(() => Deno.exit(0));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Not every platform lets a program listen for every signal: then the default applies.
    }
  }
}

/**
 * The shared scheduler (render/scheduler/) on Web Workers, or on this thread with
 * RENDER_THREADS=0 or where no Worker exists (then a render cannot be stopped mid-decode:
 * docs/deno.md). Workers that cannot start fall back to this thread too.
 */
async function startScheduler(modules: CodecModules, render: DenoSettings['render'], limits: Limits, metrics: RenderMetrics): Promise<RenderScheduler> {
  const { memoryBytes, masterBytes, timeoutMs, maxQueue, stallForTests } = render;
  const options = { modules, limits, memoryBytes, masterBytes, timeoutMs, maxQueue, stallForTests, metrics, log: (msg: string) => log(msg), sourceKey: nodeSha256Hex };
  if (render.threads > 0 && typeof Worker === 'function') {
    const entry = new URL('./render-worker.js', import.meta.url);
    let pool: RenderScheduler | undefined;
    try {
      pool = createRenderScheduler({ ...options, size: render.threads, recycleAfterPixels: RECYCLE_AFTER_PIXELS_UNCOLLECTED, startThread: () => startWebWorkerThread(entry) });
      await pool.warmUp();
      return pool;
    } catch (err) {
      // A codec that cannot warm up fails on the main thread too, and stops the process there.
      await pool?.close();
      log('render workers failed to start; rendering on the main thread', err);
    }
  }
  // The face detector next to the bundle (dist/deno/face/), loaded on this thread's first face/auto crop.
  const findFocal = lazyDenoFocalFinder(
    modules.faceNet,
    new URL('./face/', import.meta.url),
    (url) => Deno.readFile(url),
    (err) => log('face detector unavailable, saliency only', err),
  );
  const inline = createRenderScheduler({ ...options, size: 1, startThread: () => startInlineThread({ findFocal: () => findFocal }) });
  await inline.warmUp();
  return inline;
}

/**
 * A directory store Deno will not let this process read would answer 500 to every image
 * request: stop at start-up instead, saying why. Deno gives paths under /dev (/dev/shm too)
 * only to --allow-all, whatever --allow-read says. A directory that does not exist yet is
 * fine: the store makes it on its first write.
 */
function checkStoreDirectory(dir: string): void {
  try {
    Deno.statSync(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    const hint = /^\/dev(\/|$)/.test(dir) ? ' (Deno opens paths under /dev only with --allow-all: put the store in a directory elsewhere)' : '';
    throw new ConfigError([`DATA_DIR ${dir} cannot be read: ${(err as Error).message}${hint}`]);
  }
}

function describeScheduler(s: RenderScheduler): string {
  const { threads } = s.stats();
  const where = s.inProcess ? 'main thread' : `${threads} worker${threads === 1 ? '' : 's'}`;
  return `${where}, memory ${Math.round(s.memoryBytes / 1048576)} MiB, timeout ${s.timeoutMs} ms, queue ${s.maxQueue}`;
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  Deno.exit(1);
});
