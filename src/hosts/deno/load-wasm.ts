/**
 * Deno's way to hand the renderer its codecs (render/load-pinned-codecs.ts does the reading,
 * checking and compiling): the files are read through `read` (main.ts passes Deno.readFile).
 * The build (scripts/build-deno.mjs) already checked that the manifest matches the @jsquash
 * glue it bundled and copied both next to the bundle, so what runs is what was pinned.
 */
import type { CodecModules } from '../../render/codec-modules.js';
import { loadPinnedCodecs } from '../../render/load-pinned-codecs.js';

export type ReadBytes = (url: URL) => Promise<Uint8Array>;

export function loadCodecModules(dir: URL, read: ReadBytes): Promise<CodecModules> {
  const base = dir.href.endsWith('/') ? dir : new URL(`${dir.href}/`);
  return loadPinnedCodecs({ where: base.href, fix: 'rebuild with `npm run build:deno`', read: (file) => read(new URL(file, base)) });
}
