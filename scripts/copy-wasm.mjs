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
  webpEnc: { package: '@jsquash/webp', path: 'codec/enc/webp_enc.wasm' },
  webpEncSimd: { package: '@jsquash/webp', path: 'codec/enc/webp_enc_simd.wasm' },
  pngWasm: { package: '@jsquash/png', path: 'codec/pkg/squoosh_png_bg.wasm' },
  avifEnc: { package: '@jsquash/avif', path: 'codec/enc/avif_enc.wasm' },
  avifDec: { package: '@jsquash/avif', path: 'codec/dec/avif_dec.wasm' },
};

/**
 * Binaries built from this repository rather than copied from a package: committed, and
 * recorded by their build script with `--record-built`. A copy keeps their entries.
 */
const BUILT = {
  jpegScaled: { file: 'jpeg_scaled.wasm', crate: 'wasm/jpeg-scaled', build: 'scripts/build-jpeg-scaled.sh' },
  webpDec: { file: 'webp_rgba.wasm', crate: 'wasm/webp-rgba', build: 'scripts/build-webp-rgba.sh' },
  faceNet: { file: 'face_net.wasm', crate: 'wasm/face-net', build: 'scripts/build-face-net.sh' },
};

const USAGE = `usage: node scripts/copy-wasm.mjs [--check-or-copy | --record-built | --help]

  (no flag)         copy every codec .wasm from node_modules into wasm/ and write wasm/manifest.json
  --check-or-copy   do nothing (and print nothing) if wasm/manifest.json matches the files in
                    wasm/ (sha256) and the installed @jsquash versions; otherwise copy as above
                    and say why on stderr (nothing under \`npm run -s\`); errors always print
  --record-built    record the sha256 of the binaries built from this repository
                    (${Object.values(BUILT)
                      .map((b) => `wasm/${b.file}`)
                      .join(', ')}); their build scripts run this
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

async function readManifest() {
  try {
    return JSON.parse(await readFile(MANIFEST, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A Rust crate's version (Cargo.toml), or a C module's (its VERSION file). */
async function crateVersion(crate) {
  const toml = await readFile(`${ROOT}${crate}/Cargo.toml`, 'utf8').catch(() => undefined);
  if (toml === undefined) return (await readFile(`${ROOT}${crate}/VERSION`, 'utf8')).trim();
  return /^version = "([^"]+)"/m.exec(toml)?.[1] ?? 'unknown';
}

async function builtEntries() {
  const files = {};
  for (const [key, b] of Object.entries(BUILT)) {
    let bytes;
    try {
      bytes = await readFile(`${WASM_DIR}${b.file}`);
    } catch {
      console.error(`copy-wasm: wasm/${b.file} is missing; build it with ${b.build}`);
      process.exit(1);
    }
    files[key] = { file: b.file, package: b.crate, version: await crateVersion(b.crate), source: `${b.crate} (built by ${b.build})`, sha256: sha256(bytes) };
  }
  return files;
}

async function writeManifest(files) {
  // No timestamp: re-running on the same install leaves the manifest byte-identical.
  const manifest = { generatedBy: 'scripts/copy-wasm.mjs', files };
  await writeFile(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Rewrites the built binaries' entries, keeping the copied ones. */
async function recordBuilt() {
  const old = (await readManifest())?.files ?? {};
  const built = await builtEntries();
  await writeManifest({ ...Object.fromEntries(Object.entries(old).filter(([k]) => !(k in BUILT))), ...built });
  return Object.keys(built).length;
}

async function copyAll() {
  await mkdir(WASM_DIR, { recursive: true });
  const old = (await readManifest())?.files ?? {};
  const files = {};
  for (const [key, c] of Object.entries(CODECS)) {
    const source = `node_modules/${c.package}/${c.path}`;
    const bytes = await readFile(`${ROOT}${source}`);
    await copyFile(`${ROOT}${source}`, `${WASM_DIR}${fileName(c)}`);
    files[key] = { file: fileName(c), package: c.package, version: await installedVersion(c.package), source, sha256: sha256(bytes) };
  }
  // Built binaries are not copied from anywhere: keep what their build recorded.
  for (const key of Object.keys(BUILT)) if (old[key]) files[key] = old[key];
  await writeManifest(files);
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
    const problem = await fileProblem(entry);
    if (problem) return problem;
  }
  return null;
}

/** Why wasm/ does not hold the file a manifest entry pins, or null when it does. */
async function fileProblem(entry) {
  let bytes;
  try {
    bytes = await readFile(`${WASM_DIR}${entry.file}`);
  } catch {
    return `wasm/${entry.file} is missing`;
  }
  return sha256(bytes) === entry.sha256 ? null : `wasm/${entry.file} does not match its sha256 in the manifest`;
}

/** Built binaries cannot be copied: a mismatch is an error that names the build script. */
async function builtProblem() {
  const manifest = await readManifest();
  for (const [key, b] of Object.entries(BUILT)) {
    const entry = manifest?.files?.[key];
    if (!entry) return `wasm/manifest.json has no entry for ${key}; run ${b.build}`;
    const problem = await fileProblem(entry);
    if (problem) return `${problem}; run ${b.build}`;
  }
  return null;
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
} else if (args.length === 0) {
  const n = await copyAll();
  console.log(`copy-wasm: copied ${n} codec files into wasm/ and wrote wasm/manifest.json`);
} else if (args.length === 1 && args[0] === '--record-built') {
  const n = await recordBuilt();
  console.log(`copy-wasm: recorded ${n} built file(s) in wasm/manifest.json`);
} else if (args.length === 1 && args[0] === '--check-or-copy') {
  const problem = await builtProblem();
  if (problem) {
    console.error(`copy-wasm: ${problem}`);
    process.exit(1);
  }
  const reason = await staleReason();
  // This runs before other commands (`npm run -s precompute -- --json`), whose output is theirs:
  // nothing when wasm/ is up to date, and what it copied on stderr unless npm runs silent (`-s`).
  if (reason !== null) {
    const n = await copyAll();
    if (process.env.npm_config_loglevel !== 'silent') console.error(`copy-wasm: ${reason}; copied ${n} codec files and rewrote wasm/manifest.json`);
  }
} else {
  console.error(`copy-wasm: unknown arguments: ${args.join(' ')}\n\n${USAGE}`);
  process.exit(2);
}
