#!/usr/bin/env node
/**
 * npm run build:fastly: bundle the Fastly entry with esbuild, then compile it with
 * js-compute-runtime (StarlingMonkey + Wizer) to bin/main.wasm. Offline; prints each step's
 * time and the wasm size. fastly.toml's [scripts] build runs this, so `fastly compute build`
 * and `fastly compute publish` build exactly the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src/hosts/fastly/main.ts');
// `--out <file>` builds elsewhere (the Viceroy integration test builds into a temp dir).
const outArg = process.argv.indexOf('--out');
const wasm = outArg > 0 ? process.argv[outArg + 1] : join(root, 'bin/main.wasm');
const bundle = outArg > 0 ? `${wasm}.js` : join(root, 'dist/fastly/main.js');

const t0 = performance.now();
await build({
  entryPoints: [entry],
  outfile: bundle,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  mainFields: ['module', 'main'],
  // Provided by the runtime, not bundled.
  external: ['fastly:*'],
  // The sandbox bounds are fixed at build time: every FASTLY_SANDBOX_* variable goes in, and
  // src/hosts/fastly/sandbox-reuse.ts checks them (a refused or unknown one fails the build).
  define: { __AVATAR_EDGE_BUILD_ENV__: JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([n]) => n.startsWith('FASTLY_SANDBOX_')))) },
  legalComments: 'none',
  logLevel: 'warning',
});
const t1 = performance.now();
mkdirSync(dirname(wasm), { recursive: true });
const cli = join(root, 'node_modules/@fastly/js-compute/dist/cli/js-compute-runtime-cli.js');
execFileSync(process.execPath, [cli, bundle, wasm], { stdio: 'inherit', cwd: root });
const t2 = performance.now();
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
  `build:fastly: bundle ${kib(statSync(bundle).size)} in ${((t1 - t0) / 1000).toFixed(1)} s, ` +
    `${wasm.startsWith(root) ? wasm.slice(root.length + 1) : wasm} ${(statSync(wasm).size / 1024 / 1024).toFixed(1)} MiB in ${((t2 - t1) / 1000).toFixed(1)} s`,
);
