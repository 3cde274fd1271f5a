/// <reference types="@fastly/js-compute" />
/**
 * The Fastly Compute entry. `npm run build:fastly` bundles this file (esbuild) and compiles it
 * with js-compute-runtime to bin/main.wasm. Top-level code runs once at build time (Wizer):
 * nothing here may touch a store, a backend or the clock; each request builds what it needs.
 */
import { createFastlyService } from './fastly-service.js';

const service = createFastlyService();

addEventListener('fetch', (event) =>
  event.respondWith(service(event.request, { waitUntil: (p) => event.waitUntil(p), clientAddress: event.client.address })),
);
