// An esbuild plugin for the renderer bundles (build-node.mjs, build-deno.mjs): in @jsquash's
// Emscripten glue, embind's std::string argument copies a typed array into WebAssembly memory
// one byte per loop turn. That is how each encode receives its RGBA pixels (a 512×512 variant
// is 1 MB) and how mozjpeg receives a JPEG. The plugin replaces that loop with
// `HEAPU8.set(value, ptr)`, one native copy of the same bytes to the same place: the
// first-touch mix's 100 encodes took 1.03–1.13 s of CPU instead of 1.10–1.84 s, and the
// output bytes are identical (test/scripts/embind-byte-copy.test.ts).
// A glue file without exactly one such loop fails the build: a new @jsquash release changed its
// glue, and this file must be looked at again.
import { readFile } from 'node:fs/promises';

/** The loop as Emscripten 3.1 emits it (minified), and what it becomes. */
export const BYTE_LOOP = 'for(var i=0;i<length;++i){HEAPU8[ptr+i]=value[i]}';
export const ONE_COPY = 'HEAPU8.set(value,ptr)';

/** The Emscripten glue files of @jsquash's codecs (not their wrappers, not wasm-bindgen's PNG glue). */
export const GLUE_FILTER = /[\\/]node_modules[\\/]@jsquash[\\/][^\\/]+[\\/]codec[\\/](?:enc|dec)[\\/][^\\/]+\.js$/;

/** The glue with its byte loop replaced; throws unless there is exactly one. */
export function patchEmbindByteCopy(source, file) {
  const parts = source.split(BYTE_LOOP);
  if (parts.length !== 2) {
    throw new Error(`${file}: expected one embind byte-copy loop, found ${parts.length - 1}; @jsquash's glue changed (scripts/lib/embind-byte-copy.mjs)`);
  }
  return parts.join(ONE_COPY);
}

export const embindByteCopy = {
  name: 'embind-byte-copy',
  setup(build) {
    build.onLoad({ filter: GLUE_FILTER }, async (args) => ({ contents: patchEmbindByteCopy(await readFile(args.path, 'utf8'), args.path), loader: 'js' }));
  },
};
