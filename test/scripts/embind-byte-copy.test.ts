/**
 * The renderer bundles' patch of @jsquash's Emscripten glue (scripts/lib/embind-byte-copy.mjs):
 * embind's byte-by-byte copy of a typed-array argument becomes one HEAPU8.set. Every glue file
 * the bundles load has exactly one such loop, and a patched encoder writes the same bytes as the
 * package's own.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { BYTE_LOOP, GLUE_FILTER, ONE_COPY, patchEmbindByteCopy } from '../../scripts/lib/embind-byte-copy.mjs';

const ROOT = new URL('../../', import.meta.url);
const GLUE = [
  'jpeg/codec/enc/mozjpeg_enc.js',
  'jpeg/codec/dec/mozjpeg_dec.js',
  'webp/codec/enc/webp_enc.js',
  'webp/codec/enc/webp_enc_simd.js',
  'webp/codec/dec/webp_dec.js',
  'avif/codec/enc/avif_enc.js',
  'avif/codec/dec/avif_dec.js',
];
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('embind byte-copy patch', () => {
  it('finds exactly one byte loop in each glue file the codecs load, and the filter picks them', async () => {
    for (const rel of GLUE) {
      const path = new URL(`node_modules/@jsquash/${rel}`, ROOT).pathname;
      expect(GLUE_FILTER.test(path)).toBe(true);
      const patched = patchEmbindByteCopy(await readFile(path, 'utf8'), path);
      expect([patched.includes(BYTE_LOOP), patched.split(ONE_COPY).length - 1]).toEqual([false, 1]);
    }
    expect(GLUE_FILTER.test(new URL('node_modules/@jsquash/jpeg/encode.js', ROOT).pathname)).toBe(false);
    expect(() => patchEmbindByteCopy('var x = 1;', 'other.js')).toThrow(/other\.js: expected one embind byte-copy loop, found 0/);
    expect(() => patchEmbindByteCopy(BYTE_LOOP + BYTE_LOOP, 'twice.js')).toThrow(/found 2/);
  });

  it('a patched mozjpeg and libwebp encoder write the same bytes as the unpatched ones', async () => {
    // A copy of each package with its glue patched, next to the real node_modules (for its own imports).
    const dir = await mkdtemp(join(tmpdir(), 'embind-copy-'));
    dirs.push(dir);
    await symlink(new URL('node_modules', ROOT).pathname, join(dir, 'node_modules'));
    for (const pkg of ['jpeg', 'webp']) await cp(new URL(`node_modules/@jsquash/${pkg}`, ROOT).pathname, join(dir, pkg), { recursive: true });
    for (const rel of ['jpeg/codec/enc/mozjpeg_enc.js', 'webp/codec/enc/webp_enc_simd.js']) {
      const file = join(dir, rel);
      await writeFile(file, patchEmbindByteCopy(await readFile(file, 'utf8'), file));
    }
    const load = async (base: string, pkg: string, wasm: string) => {
      const m = await import(pathToFileURL(join(base, pkg, 'encode.js')).href);
      await m.init(await WebAssembly.compile(await readFile(new URL(`node_modules/@jsquash/${pkg}/codec/enc/${wasm}`, ROOT))));
      return m.default as (image: ImageData, options: object) => Promise<ArrayBuffer>;
    };
    const real = new URL('node_modules/@jsquash/', ROOT).pathname;
    const jpeg = [await load(real, 'jpeg', 'mozjpeg_enc.wasm'), await load(dir, 'jpeg', 'mozjpeg_enc.wasm')];
    const webp = [await load(real, 'webp', 'webp_enc_simd.wasm'), await load(dir, 'webp', 'webp_enc_simd.wasm')];
    const { data, info } = await sharp(new URL('samples/demo/seeding.jpg', ROOT).pathname).resize(300, 200).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height } as ImageData;
    for (const [original, patched] of [jpeg, webp] as const) {
      const [a, b] = [new Uint8Array(await original!(image, { quality: 75 })), new Uint8Array(await patched!(image, { quality: 75 }))];
      expect(a.byteLength).toBeGreaterThan(1000);
      expect(Buffer.compare(a, b)).toBe(0);
    }
    // The real pixels reached the encoder: the JPEG decodes to the picture, not to a blank.
    const back = await sharp(new Uint8Array(await jpeg[1]!(image, { quality: 75 }))).stats();
    expect(back.channels[0]!.stdev).toBeGreaterThan(10);
  });

  it("is in the Node host's bundle: its render threads' glue copies with HEAPU8.set, no byte loop left", async () => {
    const out = await mkdtemp(join(tmpdir(), 'embind-bundle-'));
    dirs.push(out);
    execFileSync(process.execPath, [new URL('scripts/build-node.mjs', ROOT).pathname, '--outdir', out], { stdio: 'ignore' });
    const worker = await readFile(join(out, 'render-worker.js'), 'utf8');
    // esbuild prints the glue with spaces: the same statements, formatted.
    expect(worker.split('HEAPU8.set(value, ptr)').length - 1).toBeGreaterThanOrEqual(3); // mozjpeg, libwebp, AVIF at least
    expect(worker).not.toContain('HEAPU8[ptr + i] = value[i]');
  });
});
