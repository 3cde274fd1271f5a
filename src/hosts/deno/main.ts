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
import { createAuthorizer } from '../../core/auth/index.js';
import { ConfigError } from '../../core/config/service-config.js';
import { createApp } from '../../http/create-app.js';
import { createJsquashRenderer } from '../../render/jsquash-renderer.js';
import { describeStorage } from '../../storage/config.js';
import { createStore } from './create-store.js';
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
  const renderer = createJsquashRenderer(await loadCodecModules(wasmDir, (url) => Deno.readFile(url)), { limits: config.limits });
  const warm = await renderer.warmUp();

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
    authorize: createAuthorizer(),
    renderSecrets: settings.renderSecrets,
    mode,
    log,
  });

  const server = Deno.serve(
    {
      hostname: settings.hostname,
      port: settings.port,
      onListen: ({ hostname, port }: { hostname: string; port: number }) => {
        const render = settings.renderSecrets.length ? ', render route on' : '';
        console.log(`avatar-edge (deno, ${mode}${render}) listening on http://${hostname}:${port}`);
        console.log(`  config: ${settings.configSource}; tenants: ${[...config.tenants.keys()].join(', ')}`);
        console.log(`  storage: ${describeStorage(settings.storage)}; codecs warmed in ${Object.values(warm).reduce((a, b) => a + b, 0).toFixed(0)} ms`);
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

  // Finish in-flight requests on SIGTERM/SIGINT (Deno Deploy manages its own lifecycle).
  const stop = () => void server.shutdown().then(() => Deno.exit(0));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Signals are not available everywhere (e.g. Deno Deploy): nothing to do there.
    }
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  Deno.exit(1);
});
