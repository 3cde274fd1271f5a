#!/usr/bin/env node
// Pins the codec binaries: copies each @jsquash .wasm from node_modules into wasm/ and records
// package, version, source path and sha256 in wasm/manifest.json. Hosts load wasm/ (never
// node_modules) and verify the hashes, so what runs is exactly what was committed.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WASM_DIR = `${ROOT}wasm/`;
const MANIFEST = `${WASM_DIR}manifest.json`;

/** Keys match the CodecModules fields of src/render/codec-modules.ts (webpEnc has two builds). */
const CODECS = {
  jpegDec: { package: '@jsquash/jpeg', path: 'codec/dec/mozjpeg_dec.wasm' },
  jpegEnc: { package: '@jsquash/jpeg', path: 'codec/enc/mozjpeg_enc.wasm' },
  webpDec: { package: '@jsquash/webp', path: 'codec/dec/webp_dec.wasm' },
  webpEnc: { package: '@jsquash/webp', path: 'codec/enc/webp_enc.wasm' },
  webpEncSimd: { package: '@jsquash/webp', path: 'codec/enc/webp_enc_simd.wasm' },
  pngWasm: { package: '@jsquash/png', path: 'codec/pkg/squoosh_png_bg.wasm' },
  resize: { package: '@jsquash/resize', path: 'lib/resize/pkg/squoosh_resize_bg.wasm' },
};

const USAGE = `usage: node scripts/copy-wasm.mjs [--check-or-copy | --help]

  (no flag)         copy every codec .wasm from node_modules into wasm/ and write wasm/manifest.json
  --check-or-copy   do nothing if wasm/manifest.json matches the files in wasm/ (sha256) and the
                    installed @jsquash versions; otherwise copy as above
  --help            show this text`;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const fileName = (c) => c.path.split('/').pop();

async function installedVersion(pkg) {
  try {
    return JSON.parse(await readFile(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')).version;
  } catch (err) {
    console.error(`copy-wasm: cannot read node_modules/${pkg}/package.json (run npm install): ${err.message}`);
    process.exit(1);
  }
}

async function copyAll() {
  await mkdir(WASM_DIR, { recursive: true });
  const files = {};
  for (const [key, c] of Object.entries(CODECS)) {
    const source = `node_modules/${c.package}/${c.path}`;
    const bytes = await readFile(`${ROOT}${source}`);
    await copyFile(`${ROOT}${source}`, `${WASM_DIR}${fileName(c)}`);
    files[key] = { file: fileName(c), package: c.package, version: await installedVersion(c.package), source, sha256: sha256(bytes) };
  }
  // No timestamp: re-running on the same install leaves the manifest byte-identical.
  const manifest = { generatedBy: 'scripts/copy-wasm.mjs', files };
  await writeFile(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return Object.keys(files).length;
}

/** Returns null when wasm/ is up to date, else the first reason it is not. */
async function staleReason() {
  let manifest;
  try {
    manifest = JSON.parse(await readFile(MANIFEST, 'utf8'));
  } catch {
    return 'no readable wasm/manifest.json';
  }
  for (const [key, c] of Object.entries(CODECS)) {
    const entry = manifest.files?.[key];
    if (!entry) return `manifest has no entry for ${key}`;
    const version = await installedVersion(c.package);
    if (entry.version !== version) return `${c.package} ${version} is installed but wasm/ holds ${entry.version}`;
    let bytes;
    try {
      bytes = await readFile(`${WASM_DIR}${entry.file}`);
    } catch {
      return `wasm/${entry.file} is missing`;
    }
    if (sha256(bytes) !== entry.sha256) return `wasm/${entry.file} does not match its sha256 in the manifest`;
  }
  return null;
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
} else if (args.length === 0) {
  const n = await copyAll();
  console.log(`copy-wasm: copied ${n} codec files into wasm/ and wrote wasm/manifest.json`);
} else if (args.length === 1 && args[0] === '--check-or-copy') {
  const reason = await staleReason();
  if (reason === null) {
    console.log(`copy-wasm: wasm/ is up to date (${Object.keys(CODECS).length} files match wasm/manifest.json)`);
  } else {
    const n = await copyAll();
    console.log(`copy-wasm: ${reason}; copied ${n} codec files and rewrote wasm/manifest.json`);
  }
} else {
  console.error(`copy-wasm: unknown arguments: ${args.join(' ')}\n\n${USAGE}`);
  process.exit(2);
}
