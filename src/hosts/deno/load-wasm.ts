/**
 * Deno's way to hand the renderer its codecs: read the pinned binaries and wasm/manifest.json
 * through `read` (main.ts passes Deno.readFile), check each sha256 against the manifest,
 * compile. The build (scripts/build-deno.mjs) already checked that the manifest matches the
 * @jsquash glue it bundled and copied both next to the bundle, so what runs is what was pinned.
 */
import { CODEC_KEYS, type CodecModules, webpEncoderKey } from '../../render/codec-modules.js';

export type ReadBytes = (url: URL) => Promise<Uint8Array>;

interface ManifestEntry {
  file: string;
  package: string;
  version: string;
  sha256: string;
}

const FIX = 'rebuild with `npm run build:deno`';

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function loadCodecModules(dir: URL, read: ReadBytes): Promise<CodecModules> {
  const base = dir.href.endsWith('/') ? dir : new URL(`${dir.href}/`);
  let files: Record<string, ManifestEntry>;
  try {
    files = JSON.parse(new TextDecoder().decode(await read(new URL('manifest.json', base)))).files;
  } catch (err) {
    throw new Error(`cannot read ${base.href}manifest.json: ${(err as Error).message}; ${FIX}`);
  }

  const load = async (manifestKey: string): Promise<WebAssembly.Module> => {
    const entry = files?.[manifestKey];
    if (!entry) throw new Error(`${base.href}manifest.json has no entry '${manifestKey}'; ${FIX}`);
    const url = new URL(entry.file, base);
    const bytes = await read(url);
    const actual = await sha256Hex(bytes);
    if (actual !== entry.sha256) throw new Error(`${url.href}: sha256 ${actual} does not match the manifest (${entry.sha256}); ${FIX}`);
    return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  };

  const keyFor = (k: (typeof CODEC_KEYS)[number]): string => (k === 'webpEnc' ? webpEncoderKey() : k);
  const compiled = await Promise.all(CODEC_KEYS.map((k) => load(keyFor(k))));
  return Object.fromEntries(CODEC_KEYS.map((k, i) => [k, compiled[i]])) as unknown as CodecModules;
}
