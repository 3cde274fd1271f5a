/**
 * Damaged sources, as a hostile uploader makes them: cut at many offsets (also with the
 * container repaired around the cut: PNG chunks with valid CRCs, a JPEG end-of-image marker
 * appended, WebP RIFF sizes patched) and bytes edited. Every decoder must report them (422)
 * rather than fill in grey, give back the memory a failed decode took, and keep decoding.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../src/core/config/service-config.js';
import { isHttpError } from '../../src/core/errors.js';
import { exposeGc } from '../../src/hosts/node/expose-gc.js';
import type { Codecs } from '../../src/render/codecs.js';
import { decodeSource } from '../../src/render/decode-source.js';
import type { ScaleDenominator } from '../../src/render/jpeg-scaled.js';
import { makePngChunk } from '../support/png-chunks.js';
import { codecs, sample } from './helpers.js';

interface Damaged {
  label: string;
  bytes: Uint8Array;
  /** Cut short: must be refused. Edited bytes may still decode (a changed pixel value is a valid image). */
  truncated: boolean;
}

const gc = exposeGc();
const MB = 1024 * 1024;

async function settledRss(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().rss;
}

// ---- generators

/** `count` offsets spread over [from, to), from a fixed seed. */
const offsets = (count: number, from: number, to: number, seed: number): number[] => fc.sample(fc.integer({ min: from, max: to - 1 }), { numRuns: count, seed });

function flipped(b: Uint8Array, at: number, xor: number): Uint8Array {
  const out = b.slice();
  out[at] = (out[at] as number) ^ xor;
  return out;
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

function pngChunks(b: Uint8Array): Chunk[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const chunks: Chunk[] = [];
  for (let i = 8; i + 12 <= b.length; ) {
    const len = dv.getUint32(i);
    chunks.push({ type: String.fromCharCode(...b.subarray(i + 4, i + 8)), data: b.subarray(i + 8, i + 8 + len) });
    i += 12 + len;
  }
  return chunks;
}

/** A PNG whose every chunk has a valid CRC, whatever the data. */
function buildPng(chunks: Chunk[]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  for (const { type, data } of chunks) parts.push(makePngChunk(type, data));
  return Buffer.concat(parts);
}

function damagedPngs(png: Uint8Array, seed: number): Damaged[] {
  const chunks = pngChunks(png);
  const head = chunks.filter((c) => c.type !== 'IDAT' && c.type !== 'IEND');
  const idat = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  const out: Damaged[] = [];
  for (const at of offsets(30, 40, png.length, seed)) out.push({ label: `cut at ${at}`, bytes: png.subarray(0, at), truncated: true });
  // The measured attack: image data cut short inside well-formed chunks.
  for (const at of offsets(40, 1, idat.length, seed + 1)) {
    out.push({ label: `IDAT cut at ${at}, CRCs valid`, bytes: buildPng([...head, { type: 'IDAT', data: idat.subarray(0, at) }, { type: 'IEND', data: new Uint8Array(0) }]), truncated: true });
  }
  for (const at of offsets(30, 0, idat.length, seed + 2)) {
    const data = flipped(idat, at, 0x5a);
    out.push({ label: `IDAT byte ${at} edited, CRCs valid`, bytes: buildPng([...head, { type: 'IDAT', data }, { type: 'IEND', data: new Uint8Array(0) }]), truncated: false });
  }
  // A header that declares more rows than the data holds.
  const ihdr = head[0]!.data.slice();
  new DataView(ihdr.buffer).setUint32(4, new DataView(ihdr.buffer).getUint32(4) + 7);
  out.push({
    label: 'IHDR 7 rows taller, CRCs valid',
    bytes: buildPng([{ type: 'IHDR', data: ihdr }, ...head.slice(1), { type: 'IDAT', data: idat }, { type: 'IEND', data: new Uint8Array(0) }]),
    truncated: true,
  });
  return out;
}

function damagedJpegs(jpeg: Uint8Array, seed: number): Damaged[] {
  const out: Damaged[] = [];
  for (const at of offsets(40, 100, jpeg.length - 2, seed)) out.push({ label: `cut at ${at}`, bytes: jpeg.subarray(0, at), truncated: true });
  for (const at of offsets(40, 100, jpeg.length - 2, seed + 1)) {
    out.push({ label: `cut at ${at}, EOI appended`, bytes: Buffer.concat([jpeg.subarray(0, at), new Uint8Array([0xff, 0xd9])]), truncated: true });
  }
  for (const at of offsets(30, 2, jpeg.length - 2, seed + 2)) out.push({ label: `byte ${at} edited`, bytes: flipped(jpeg, at, 0x5a), truncated: false });
  return out;
}

function damagedWebps(webp: Uint8Array, seed: number): Damaged[] {
  const out: Damaged[] = [];
  for (const at of offsets(40, 30, webp.length - 1, seed)) out.push({ label: `cut at ${at}`, bytes: webp.subarray(0, at), truncated: true });
  // Cut, with the RIFF and first-chunk sizes patched to match what is left.
  // (Not the last byte: it may be the padding of an odd-sized chunk.)
  for (const at of offsets(40, 40, webp.length - 1, seed + 1)) {
    const b = webp.slice(0, at);
    const dv = new DataView(b.buffer);
    dv.setUint32(4, at - 8, true);
    dv.setUint32(16, at - 20, true);
    out.push({ label: `cut at ${at}, RIFF sizes patched`, bytes: b, truncated: true });
  }
  for (const at of offsets(30, 30, webp.length, seed + 2)) out.push({ label: `byte ${at} edited`, bytes: flipped(webp, at, 0x5a), truncated: false });
  return out;
}

// ---- the checks

/**
 * Decodes every damaged file; returns what was accepted that should not have been: a cut file
 * that decoded to anything but the intact file's pixels (a progressive JPEG at 1/8 needs only
 * its DC scans, so a cut in the AC scans loses nothing there), or an edited one of the wrong size.
 */
async function decodeAll(c: Codecs, files: Damaged[], intact: Map<number, ImageData>, denominators: ScaleDenominator[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const [n, f] of files.entries()) {
    const d = denominators[n % denominators.length] ?? 1;
    try {
      const { image, denominator } = await decodeSource(c, f.bytes, LIMIT_DEFAULTS, { denominator: () => d });
      const whole = intact.get(denominator);
      if (!whole || image.width !== whole.width || image.height !== whole.height) wrong.push(`${f.label} (1/${d}): ${image.width}×${image.height}`);
      else if (f.truncated && !Buffer.from(image.data).equals(Buffer.from(whole.data))) wrong.push(`${f.label} (1/${d}): decoded with made-up pixels`);
    } catch (err) {
      if (!isHttpError(err) || err.status !== 422) wrong.push(`${f.label} (1/${d}): ${String(err)}`);
    }
  }
  return wrong;
}

async function survives(c: Codecs, label: string, bytes: Uint8Array, files: Damaged[], denominators: ScaleDenominator[]) {
  const intact = new Map<number, ImageData>();
  for (const d of denominators) {
    const { image, denominator } = await decodeSource(c, bytes, LIMIT_DEFAULTS, { denominator: () => d });
    intact.set(denominator, image);
  }
  await decodeAll(c, files.slice(0, 10), intact, denominators); // the decoders' first, legitimate growth
  const before = await settledRss();
  const wrong = await decodeAll(c, files, intact, denominators);
  const grown = (await settledRss()) - before;
  expect(wrong, label).toEqual([]);
  expect(grown / MB, `${label}: RSS growth in MB over ${files.length} damaged decodes`).toBeLessThan(50);
  for (const [denominator, whole] of intact) {
    const { image } = await decodeSource(c, bytes, LIMIT_DEFAULTS, { denominator: () => denominator as ScaleDenominator });
    expect(Buffer.from(image.data).equals(Buffer.from(whole.data)), `${label}: intact file afterwards at 1/${denominator}`).toBe(true);
  }
}

describe('damaged sources', () => {
  let c: Codecs;
  let photo: ReturnType<typeof sharp>;
  beforeAll(async () => {
    c = await codecs();
    // Large enough that a leak per failure (the decoder's input copy and part of its output) shows.
    photo = sharp(sample('free.jpg')).resize(1600, 1200);
  });

  it('PNG (8-bit, 16-bit, interlaced): refused, memory returned, decoder still works', async () => {
    const files = [
      ['8-bit', await photo.clone().png().toBuffer()],
      ['16-bit', await photo.clone().toColourspace('rgb16').png().toBuffer()],
      ['interlaced', await photo.clone().png({ progressive: true }).toBuffer()],
    ] as const;
    for (const [i, [label, png]] of files.entries()) await survives(c, `PNG ${label}`, new Uint8Array(png), damagedPngs(new Uint8Array(png), 10 * i + 1), [1]);
  });

  it('JPEG (baseline and progressive, mozjpeg and the reduced decoder): refused, memory returned, decoders still work', async () => {
    const baseline = new Uint8Array(await photo.clone().jpeg({ quality: 90 }).toBuffer());
    const progressive = new Uint8Array(await photo.clone().jpeg({ progressive: true, quality: 85 }).toBuffer());
    await survives(c, 'JPEG baseline', baseline, damagedJpegs(baseline, 101), [1, 2, 8]);
    await survives(c, 'JPEG progressive', progressive, damagedJpegs(progressive, 201), [1, 4, 8]);
  });

  it('WebP (lossy and lossless): refused, memory returned, decoder still works', async () => {
    const lossy = new Uint8Array(await photo.clone().webp({ quality: 80 }).toBuffer());
    const lossless = new Uint8Array(await photo.clone().webp({ lossless: true }).toBuffer());
    await survives(c, 'WebP lossy', lossy, damagedWebps(lossy, 301), [1]);
    await survives(c, 'WebP lossless', lossless, damagedWebps(lossless, 401), [1]);
  });

  it('tells what is wrong with a cut file, in the 422 message', async () => {
    const jpeg = sample('free.jpg');
    const err = await decodeSource(c, jpeg.subarray(0, jpeg.length >> 2), LIMIT_DEFAULTS).catch((e: unknown) => e);
    expect(isHttpError(err) && [err.status, err.code, err.message]).toEqual([422, 'DECODE_FAILED', expect.stringMatching(/JPEG is corrupt: truncated/)]);
  });
});
