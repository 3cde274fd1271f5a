/**
 * How every host hands the renderer its codecs: read wasm/manifest.json and the pinned
 * binaries it lists, check each binary's sha256 against the manifest, compile. Any mismatch
 * stops the start-up: a codec built for other glue fails in ways that look like corrupt
 * images. A host says only how to read a file next to the manifest, and may check each entry
 * first and compile its own way (hosts/node/load-wasm.ts, hosts/deno/load-wasm.ts).
 */
import { sha256Hex } from '../core/sha256.js';
import { CODEC_KEYS, type CodecModules, webpEncoderKey } from './codec-modules.js';

/** An entry of wasm/manifest.json (scripts/copy-wasm.mjs writes it). */
export interface ManifestEntry {
  file: string;
  package: string;
  version: string;
  sha256: string;
}

export interface PinnedCodecSource {
  /** Where the files are, as errors name it (ends in '/': a file's name follows it). */
  where: string;
  /** What fixes a missing or mismatched file, as errors say it. */
  fix: string;
  /** The bytes of a file of that folder, by its name (manifest.json and the binaries). */
  read(file: string): Promise<Uint8Array>;
  /** Checks an entry before its binary is read (throws to stop the start-up). */
  check?(entry: ManifestEntry): void;
  /** Compiles one binary, by its manifest key; WebAssembly.compile by default. */
  compile?(manifestKey: string, bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | Promise<WebAssembly.Module>;
}

export async function loadPinnedCodecs(source: PinnedCodecSource): Promise<CodecModules> {
  const { where, fix } = source;
  let files: Record<string, ManifestEntry>;
  try {
    files = JSON.parse(new TextDecoder().decode(await source.read('manifest.json'))).files;
  } catch (err) {
    throw new Error(`cannot read ${where}manifest.json: ${(err as Error).message}; ${fix}`);
  }

  const load = async (manifestKey: string): Promise<WebAssembly.Module> => {
    const entry = files?.[manifestKey];
    if (!entry) throw new Error(`${where}manifest.json has no entry '${manifestKey}'; ${fix}`);
    source.check?.(entry);
    const bytes = (await source.read(entry.file)) as Uint8Array<ArrayBuffer>;
    const actual = await sha256Hex(bytes);
    if (actual !== entry.sha256) throw new Error(`${where}${entry.file}: sha256 ${actual} does not match the manifest (${entry.sha256}); ${fix}`);
    return source.compile ? source.compile(manifestKey, bytes) : WebAssembly.compile(bytes);
  };

  const keyFor = (k: (typeof CODEC_KEYS)[number]): string => (k === 'webpEnc' ? webpEncoderKey() : k);
  const compiled = await Promise.all(CODEC_KEYS.map((k) => load(keyFor(k))));
  return Object.fromEntries(CODEC_KEYS.map((k, i) => [k, compiled[i]])) as unknown as CodecModules;
}
