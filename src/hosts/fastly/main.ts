/// <reference types="@fastly/js-compute" />
/**
 * The Fastly Compute entry. `npm run build:fastly` bundles this file (esbuild) and compiles it
 * with js-compute-runtime to bin/main.wasm. Top-level code runs once at build time (Wizer) and
 * every sandbox starts from the snapshot it leaves: the router is built here, and
 * snapshot-warmup.ts runs the hot path once on made-up input so its first-use work is in the
 * snapshot too. A sandbox then answers up to FASTLY_SANDBOX_MAX_REQUESTS requests one after
 * another (sandbox-reuse.ts). Nothing here may touch a store, a backend or the clock; requests
 * read the settings themselves (docs/fastly.md, "CPU per request").
 */
import { setReusableSandboxOptions } from 'fastly:experimental';
import { createFastlyService } from './fastly-service.js';
import { sandboxOptions } from './sandbox-reuse.js';
import { warmUpSnapshot } from './snapshot-warmup.js';

/** The build's environment, sandbox-reuse.ts's variables only (scripts/build-fastly.mjs defines it). */
declare const __AVATAR_EDGE_BUILD_ENV__: Record<string, string | undefined> | undefined;

// Throws (and so fails the build) on a refused value.
setReusableSandboxOptions(sandboxOptions(typeof __AVATAR_EDGE_BUILD_ENV__ === 'undefined' ? {} : __AVATAR_EDGE_BUILD_ENV__));
const service = createFastlyService();
void warmUpSnapshot();

addEventListener('fetch', (event) => event.respondWith(service(event.request, { waitUntil: (p) => event.waitUntil(p), clientAddress: event.client.address })));
