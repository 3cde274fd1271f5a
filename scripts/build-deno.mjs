#!/usr/bin/env node
// Bundles the Deno host into dist/deno/: main.js (our TypeScript, itty-router, aws4fetch and the
// @jsquash glue, ES modules with no remote imports), render-worker.js (the render threads'
// Web Worker entry, which main.js starts from next to itself), chunk-*.js (code both share),
// wasm/ (the pinned binaries with their manifest, the face kernel among them, read at start-up
// next to the bundle) and face/ (the face detector's weights, from @vladmandic/face-api). That
// directory is what `deno run` serves locally and what Deno Deploy builds and runs.
//
// Why a bundle: our sources import `./x.js` for `./x.ts` (Node/bundler style) and npm packages
// by bare name; Deno resolves neither without sloppy imports and an npm install step.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { embindByteCopy } from './lib/embind-byte-copy.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USAGE = 'usage: node scripts/build-deno.mjs [--outdir DIR]   (default dist/deno; tests build into a temp dir)';
const args = process.argv.slice(2);
if (args.includes('--help') || !(args.length === 0 || (args.length === 2 && args[0] === '--outdir'))) {
  console.error(USAGE);
  process.exit(args.includes('--help') ? 0 : 2);
}
const OUT = `${resolve(args[1] ?? `${ROOT}dist/deno`)}/`;

await rm(OUT, { recursive: true, force: true });
await mkdir(`${OUT}wasm`, { recursive: true });

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/hosts/deno/main.ts', 'render-worker': 'src/hosts/deno/render-worker.ts' },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  // Code both entries share goes to chunk-*.js files next to them.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  // Neutral: no Node or browser shims. `node:*` built-ins (fs-store's node:fs for local runs)
  // stay imports that Deno provides itself.
  platform: 'neutral',
  mainFields: ['module', 'main'],
  conditions: ['deno', 'worker', 'import', 'default'],
  external: ['node:*'],
  target: 'es2022',
  // The emscripten glue computes `new URL('x.wasm', import.meta.url)` but never fetches it:
  // the host hands every codec its compiled module. Left as is, import.meta.url is the bundle's.
  // Its embind byte-by-byte copy into WebAssembly memory becomes one native copy (lib/embind-byte-copy.mjs).
  plugins: [embindByteCopy],
  legalComments: 'linked',
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
});

// The binaries the manifest pins (`npm run build:deno` runs copy-wasm --check-or-copy first,
// so wasm/ matches the @jsquash versions just bundled).
const manifest = JSON.parse(await readFile(`${ROOT}wasm/manifest.json`, 'utf8'));
for (const entry of Object.values(manifest.files)) await copyFile(`${ROOT}wasm/${entry.file}`, `${OUT}wasm/${entry.file}`);
await writeFile(`${OUT}wasm/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);

// The face detector's weights (hosts/deno/face-model.ts); its kernel is in wasm/ with the codecs.
await mkdir(`${OUT}face`, { recursive: true });
const FACE_FILES = [
  ['@vladmandic/face-api', 'model/tiny_face_detector_model.bin'],
  ['@vladmandic/face-api', 'model/tiny_face_detector_model-weights_manifest.json'],
];
for (const [pkg, file] of FACE_FILES) await copyFile(`${ROOT}node_modules/${pkg}/${file}`, `${OUT}face/${file.split('/').pop()}`);

const rel = relative(ROOT, OUT);
const shown = rel && !rel.startsWith('..') ? rel : OUT.replace(/\/$/, '');
// Shared code, and the dynamically imported modules (esbuild makes those entry points of their own).
const ENTRIES = ['src/hosts/deno/main.ts', 'src/hosts/deno/render-worker.ts'];
const chunks = Object.entries(result.metafile.outputs).filter(([path, o]) => path.endsWith('.js') && !ENTRIES.includes(o.entryPoint));
const chunkKib = (chunks.reduce((n, [, o]) => n + o.bytes, 0) / 1024).toFixed(0);
const kib = (entry) => ((Object.values(result.metafile.outputs).find((o) => o.entryPoint === entry)?.bytes ?? 0) / 1024).toFixed(0);
console.log(
  `build-deno: ${shown}/main.js (${kib('src/hosts/deno/main.ts')} KiB), ${shown}/render-worker.js (${kib('src/hosts/deno/render-worker.ts')} KiB), ${chunks.length} chunks (${chunkKib} KiB), ${Object.keys(manifest.files).length} codec files in ${shown}/wasm/ and ${FACE_FILES.length} face detector weight files in ${shown}/face/`,
);
