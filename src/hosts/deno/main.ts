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
import { ConfigError } from '../../core/config/service-config.js';
import type { Renderer } from '../../core/ports.js';
import type { Variant } from '../../core/variant.js';
import { createApp } from '../../http/create-app.js';
import { createDemoPage } from '../../http/demo-page.js';
import { createCodecs } from '../../render/codecs.js';
import { createGeneratedFallback } from '../../render/fallback/create-fallback.js';
import { createJsquashRenderer } from '../../render/jsquash-renderer.js';
import { describeStorage } from '../../storage/config.js';
import { nodeHmacSha256Base64url } from '../shared/node-crypto-hmac.js';
import { createStore } from './create-store.js';
import { lazyDenoFocalFinder } from './face-model.js';
import { loadCodecModules } from './load-wasm.js';
import { loadDenoSettings } from './settings.js';

const log = (msg: string, err?: unknown): void =>
  console.error(`[avatar-edge] ${msg}`, err instanceof Error ? err.message : (err ?? ''));

async function main(): Promise<void> {
  const settings = await loadDenoSettings(Deno.env.toObject(), (path) => Deno.readTextFile(path));
  const { config, mode } = settings;

  // Next to the bundle (dist/deno/wasm/), where the build copies the pinned binaries.
  const wasmDir = settings.wasmDir
    ? settings.wasmDir.startsWith('file:') ? new URL(settings.wasmDir) : pathToFileURL(`${settings.wasmDir}/`)
    : new URL('./wasm/', import.meta.url);
  // Serve at once and bring the codecs up alongside: Deno Deploy starts instances on demand,
  // and requests answered from the cache or the variant store need no codec. Renders wait for
  // it; a broken binary still stops the process (warm-up checks every codec).
  const t0 = performance.now();
  const modules = loadCodecModules(wasmDir, (url) => Deno.readFile(url));
  const codecs = modules.then(async (m) => {
    const findFocal = lazyDenoFocalFinder(new URL('./face/', import.meta.url), (url) => Deno.readFile(url), (err) => log('face detector unavailable, saliency only', err));
    const jsquash = createJsquashRenderer(m, { limits: config.limits, findFocal });
    await jsquash.warmUp();
    return jsquash;
  });
  codecs.then(
    () => console.log(`  codecs ready in ${(performance.now() - t0).toFixed(0)} ms`),
    (err) => {
      console.error('[avatar-edge] codecs failed to start:', err instanceof Error ? err.message : err);
      Deno.exit(1);
    },
  );
  const renderer: Renderer = { render: async (source, variant) => (await codecs).render(source, variant) };
  // Generated avatars for tenants with fallback 'generated', encoded by the same codecs.
  const generated = codecs.then(() => modules).then((m) => createGeneratedFallback(createCodecs(m)));
  generated.catch(() => {}); // a codec failure is reported (and ends the process) above
  const fallback = async (variant: Variant) => (await generated)(variant);

  const store = createStore(settings.storage, log);
  const cache = createMemoryCache({
    maxBytes: settings.cacheMaxBytes,
    onRefreshError: (key, err) => log(`refresh of ${key} failed`, err),
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
  });

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
    (request: Request) => app.fetch(request),
  );

  // Finish in-flight requests on SIGTERM/SIGINT (Deno Deploy sends SIGINT, then SIGKILL 5 s later).
  const stop = () => void server.shutdown().then(() => Deno.exit(0));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Not every platform lets a program listen for every signal: then the default applies.
    }
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  Deno.exit(1);
});
