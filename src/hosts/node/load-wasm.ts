/**
 * Node's way to hand the renderer its codecs: read the pinned binaries from wasm/, check each
 * against wasm/manifest.json (sha256, and the installed @jsquash version whose JavaScript glue
 * will drive it), compile. Any mismatch stops the start-up: a codec built for other glue
 * fails in ways that look like corrupt images.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { CODEC_KEYS, type CodecModules, webpEncoderKey } from '../../render/codec-modules.js';
import { REPO_ROOT } from './repo-root.js';

export const DEFAULT_WASM_DIR = `${REPO_ROOT}wasm/`;

interface ManifestEntry {
  file: string;
  package: string;
  version: string;
  source: string;
  sha256: string;
}

const FIX = 'run `npm run wasm:copy` (or `node scripts/copy-wasm.mjs`)';
const require = createRequire(import.meta.url);

function installedVersion(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Compiles with V8's optimising compiler up front. By default V8 compiles WebAssembly with its
 * baseline compiler and optimises hot functions later, in the background: the reduced JPEG
 * decoder then ran its first five photo decodes 2–4× slower (97, 76, 77, 93, 61 ms, then 27
 * for a 6 MP file at 1/8). Up front costs ~250 ms once per process (render threads share the
 * compiled module) and every decode runs at full speed. Only for the project's own decoders
 * (that one and wasm/webp_rgba.wasm): the @jsquash codecs are larger, and their slow first
 * calls are shorter.
 */
function compileOptimized(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  // Synchronous, so no other module's compilation can start while the flags are set.
  setFlagsFromString('--no-liftoff');
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    setFlagsFromString('--liftoff');
    setFlagsFromString('--wasm-lazy-compilation');
  }
}

export async function loadCodecModules(dir: string = DEFAULT_WASM_DIR): Promise<CodecModules> {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  let files: Record<string, ManifestEntry>;
  try {
    files = JSON.parse(await readFile(`${base}manifest.json`, 'utf8')).files;
  } catch (err) {
    throw new Error(`cannot read ${base}manifest.json: ${(err as Error).message}; ${FIX}`);
  }

  const load = async (manifestKey: string): Promise<WebAssembly.Module> => {
    const entry = files?.[manifestKey];
    if (!entry) throw new Error(`${base}manifest.json has no entry '${manifestKey}'; ${FIX}`);
    const installed = installedVersion(entry.package);
    if (installed && installed !== entry.version) {
      throw new Error(`wasm/${entry.file} is from ${entry.package} ${entry.version} but ${installed} is installed; ${FIX}`);
    }
    const bytes = await readFile(`${base}${entry.file}`);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== entry.sha256) {
      throw new Error(`${base}${entry.file}: sha256 ${actual} does not match the manifest (${entry.sha256}); ${FIX}`);
    }
    return manifestKey === 'jpegScaled' || manifestKey === 'webpDec' ? compileOptimized(new Uint8Array(bytes)) : WebAssembly.compile(bytes);
  };

  const keyFor = (k: (typeof CODEC_KEYS)[number]): string => (k === 'webpEnc' ? webpEncoderKey() : k);
  const compiled = await Promise.all(CODEC_KEYS.map((k) => load(keyFor(k))));
  return Object.fromEntries(CODEC_KEYS.map((k, i) => [k, compiled[i]])) as unknown as CodecModules;
}
