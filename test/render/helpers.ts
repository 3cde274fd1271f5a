/** Shared fixtures for the render tests: real codecs from wasm/, samples, pixel helpers. */
import { readFileSync } from 'node:fs';
import { sniffImage } from '../../src/core/image/sniff.js';
import type { Fit, Format, Variant } from '../../src/core/variant.js';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { type Codecs, createCodecs } from '../../src/render/codecs.js';
import { toImageData } from '../../src/render/image-data.js';
import { createJsquashRenderer, type JsquashRendererOptions } from '../../src/render/jsquash-renderer.js';

export const SAMPLES = new URL('../../samples/demo/', import.meta.url).pathname;
export const sample = (name: string): Uint8Array => new Uint8Array(readFileSync(`${SAMPLES}${name}`));

let modules: ReturnType<typeof loadCodecModules> | undefined;
export const codecModules = () => (modules ??= loadCodecModules());

export async function renderer(opts?: JsquashRendererOptions) {
  return createJsquashRenderer(await codecModules(), opts);
}

export async function codecs(): Promise<Codecs> {
  return createCodecs(await codecModules());
}

export function variant(width: number, height: number, fit: Fit = 'cover', format: Format = 'webp', quality = 80): Variant {
  return { tenant: 'demo', id: 'test', width, height, fit, format, quality, version: '', negotiated: false };
}

/** Decodes rendered output with the jsquash decoders (the format comes from its own header). */
export async function decodeOutput(body: Uint8Array): Promise<ImageData> {
  const info = sniffImage(body);
  if (!info) throw new Error('output is not a readable image');
  return (await codecs()).decode(info.format, body);
}

export function pixel(img: ImageData, x: number, y: number): [number, number, number, number] {
  const i = (y * img.width + x) * 4;
  const d = img.data;
  return [d[i] ?? -1, d[i + 1] ?? -1, d[i + 2] ?? -1, d[i + 3] ?? -1];
}

/** A solid-colour RGBA image, optionally with a second colour on the right half. */
export function solid(width: number, height: number, left: number[], right: number[] = left): ImageData {
  const d = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) d.set(x < width / 2 ? left : right, (y * width + x) * 4);
  }
  return toImageData(d, width, height);
}

/** Inserts an APP1 Exif segment with just an Orientation tag right after SOI. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, littleEndian = false): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const dv = new DataView(tiff.buffer);
  tiff.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d]);
  dv.setUint16(2, 42, littleEndian);
  dv.setUint32(4, 8, littleEndian); // IFD0 right after the header
  dv.setUint16(8, 1, littleEndian); // one entry
  dv.setUint16(10, 0x0112, littleEndian); // Orientation
  dv.setUint16(12, 3, littleEndian); // SHORT
  dv.setUint32(14, 1, littleEndian); // count
  dv.setUint16(18, orientation, littleEndian);
  // next-IFD offset (last 4 bytes) stays 0
  const payload = new Uint8Array([...new TextEncoder().encode('Exif'), 0, 0, ...tiff]);
  const len = payload.length + 2;
  const seg = new Uint8Array([0xff, 0xe1, len >> 8, len & 255, ...payload]);
  return new Uint8Array([...jpeg.subarray(0, 2), ...seg, ...jpeg.subarray(2)]);
}

/** Mean absolute difference per channel (R, G, B, A) of two same-sized images. */
export function meanAbsError(a: ImageData, b: ImageData): number[] {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  const sums = [0, 0, 0, 0];
  for (let i = 0; i < a.data.length; i++) sums[i & 3]! += Math.abs((a.data[i] as number) - (b.data[i] as number));
  return sums.map((s) => s / (a.width * a.height));
}

/**
 * Difference hash: luminance averaged onto a 9×8 grid, one bit per horizontal neighbour pair.
 * Perceptually similar images differ in few of the 64 bits.
 */
export function dHash(img: ImageData): bigint {
  const cols = 9;
  const rows = 8;
  const sum = new Float64Array(cols * rows);
  const count = new Float64Array(cols * rows);
  for (let y = 0; y < img.height; y++) {
    const cy = Math.min(rows - 1, Math.floor((y * rows) / img.height));
    for (let x = 0; x < img.width; x++) {
      const cx = Math.min(cols - 1, Math.floor((x * cols) / img.width));
      const [r, g, b] = pixel(img, x, y);
      sum[cy * cols + cx]! += 0.299 * r + 0.587 * g + 0.114 * b;
      count[cy * cols + cx]! += 1;
    }
  }
  let hash = 0n;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols - 1; x++) {
      const left = sum[y * cols + x]! / count[y * cols + x]!;
      const right = sum[y * cols + x + 1]! / count[y * cols + x + 1]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash;
}

export function hamming(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}
