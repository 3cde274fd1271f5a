#!/usr/bin/env node
// Bundles the Node host into dist/node/: main.js (what `npm start` runs) and render-worker.js
// (the render threads, loaded next to it), plain JavaScript for plain `node`. Running through
// tsx instead costs ~35 MB of RSS in the process and ~15 MB in every render thread (its
// TypeScript loader), which a 16 MP render cannot afford (BENCHMARKS.md, memory).
// npm packages stay imports resolved from node_modules, except @jsquash's codecs: their
// Emscripten glue is bundled, with embind's byte-by-byte copy into WebAssembly memory replaced
// by one native copy (lib/embind-byte-copy.mjs; the glue never fetches its .wasm: the host hands
// every codec its compiled module). Our sources find the repository root from dist/node/
// (create-node-app.ts).
// Takes ~0.5 s (node included; ~0.3 s before the glue was bundled): `npm start` rebuilds every
// time, so the bundle never lags the sources.
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { embindByteCopy } from './lib/embind-byte-copy.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USAGE = 'usage: node scripts/build-node.mjs [--outdir DIR] [--entry name=path.ts]...   (default dist/node)';
const args = process.argv.slice(2);
let outdir = `${ROOT}dist/node`;
const entryPoints = { main: 'src/hosts/node/main.ts', 'render-worker': 'src/hosts/node/render-worker.ts' };
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--outdir' && value) outdir = resolve(value);
  else if (flag === '--entry' && value?.includes('=')) {
    const [name, path] = value.split('=');
    entryPoints[name] = path;
  } else {
    console.error(USAGE);
    process.exit(flag === '--help' ? 0 : 2);
  }
}

/** `packages: 'external'`, except the packages matching `bundled` (and relative imports inside them). */
function externalPackagesBut(bundled) {
  return {
    name: 'external-packages-but',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (bundled.test(args.path) ? undefined : { path: args.path, external: true }));
    },
  };
}

await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: ROOT,
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [externalPackagesBut(/^@jsquash\//), embindByteCopy],
  sourcemap: 'linked',
  logLevel: 'warning',
});
// ES modules wherever the directory is (a temp dir has no package.json saying so).
await writeFile(`${outdir}/package.json`, '{ "type": "module" }\n');
