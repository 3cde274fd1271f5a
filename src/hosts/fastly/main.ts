/// <reference types="@fastly/js-compute" />
/**
 * The Fastly Compute entry. `npm run build:fastly` bundles this file (esbuild) and compiles it
 * with js-compute-runtime to bin/main.wasm. Top-level code runs once at build time (Wizer) and
 * every request starts from the snapshot it leaves: the router is built here, and
 * snapshot-warmup.ts runs the hot path once on made-up input so its first-use work is in the
 * snapshot too. Nothing here may touch a store, a backend or the clock; each request reads its
 * settings itself (docs/fastly.md, "CPU per request").
 */
import { createFastlyService } from './fastly-service.js';
import { warmUpSnapshot } from './snapshot-warmup.js';

const service = createFastlyService();
void warmUpSnapshot();

addEventListener('fetch', (event) => event.respondWith(service(event.request, { waitUntil: (p) => event.waitUntil(p), clientAddress: event.client.address })));
