/**
 * Node's way to hand the renderer its codecs (render/load-pinned-codecs.ts does the reading,
 * checking and compiling): the pinned binaries from wasm/, each entry also checked against the
 * installed @jsquash version whose JavaScript glue will drive it, and the reduced JPEG decoder
 * compiled with the optimising compiler up front.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type { CodecModules } from '../../render/codec-modules.js';
import { loadPinnedCodecs } from '../../render/load-pinned-codecs.js';
import { REPO_ROOT } from './repo-root.js';

export const DEFAULT_WASM_DIR = `${REPO_ROOT}wasm/`;

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
 * compiled module) and every decode runs at full speed. Only for the project's own modules
 * (that one, wasm/webp_rgba.wasm and the face detector's wasm/face_net.wasm, whose layers are
 * long single calls that baseline code would run whole): the @jsquash codecs are larger, and
 * their slow first calls are shorter.
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

const OPTIMIZED = new Set(['jpegScaled', 'webpDec', 'faceNet']);

export async function loadCodecModules(dir: string = DEFAULT_WASM_DIR): Promise<CodecModules> {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return loadPinnedCodecs({
    where: base,
    fix: FIX,
    read: (file) => readFile(`${base}${file}`),
    check(entry) {
      const installed = installedVersion(entry.package);
      if (installed && installed !== entry.version) {
        throw new Error(`wasm/${entry.file} is from ${entry.package} ${entry.version} but ${installed} is installed; ${FIX}`);
      }
    },
    compile: (manifestKey, bytes) => (OPTIMIZED.has(manifestKey) ? compileOptimized(bytes) : WebAssembly.compile(bytes)),
  });
}
