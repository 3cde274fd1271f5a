/**
 * Damaged and oversized originals for the hostile suite, each a well-formed container around
 * the trouble (so no header check can reject it for free): made with sharp from the sample
 * photos at bench time, deterministic, cached under the OS temp dir like lib/originals.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { CORPUS_DIR } from './corpus.js';
import type { SourceFile, SourceFormat } from './servers.js';

export interface HostileInput extends SourceFile {
  /** Short name of the class, e.g. "truncated PNG". */
  name: string;
  /** What the file is, for the report. */
  description: string;
  size: number;
}

// Bump when a file's recipe changes.
const GENERATOR = 1;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Chunk {
  type: string;
  data: Buffer;
}

function pngChunks(png: Buffer): Chunk[] {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  const out: Chunk[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** The same PNG with its zlib stream cut to `keep` of its length, as one IDAT with a valid CRC, then IEND. */
export function truncatePng(png: Buffer, keep: number): Buffer {
  const chunks = pngChunks(png);
  const idat = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  const before = chunks.slice(
    0,
    chunks.findIndex((c) => c.type === 'IDAT'),
  );
  return Buffer.concat([PNG_SIGNATURE, ...before.map((c) => pngChunk(c.type, c.data)), pngChunk('IDAT', idat.subarray(0, Math.floor(idat.length * keep))), pngChunk('IEND', Buffer.alloc(0))]);
}

/**
 * A progressive JPEG whose first (DC) scan is followed by empty DC-refinement scans over all
 * components up to `totalBytes`, then EOI: every scan is a full pass over the image's blocks
 * for a decoder that accepts it (libjpeg only warns about the repeated progression), and costs
 * 14 bytes of file.
 */
export function manyScansJpeg(progressive: Buffer, totalBytes: number): Buffer {
  const markers: { marker: number; at: number; end: number }[] = [];
  let at = 2; // after SOI
  let sof: Buffer | undefined;
  let firstScanEnd = -1;
  while (at < progressive.length) {
    if (progressive[at] !== 0xff) throw new Error(`manyScansJpeg: expected a marker at ${at}`);
    const marker = progressive[at + 1]!;
    const len = progressive.readUInt16BE(at + 2);
    const end = at + 2 + len;
    markers.push({ marker, at, end });
    if (marker === 0xc2) sof = progressive.subarray(at + 4, end);
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart.
      let p = end;
      while (p < progressive.length - 1 && !(progressive[p] === 0xff && progressive[p + 1] !== 0x00 && !(progressive[p + 1]! >= 0xd0 && progressive[p + 1]! <= 0xd7))) p++;
      firstScanEnd = p;
      break;
    }
    at = end;
  }
  if (!sof || firstScanEnd < 0) throw new Error('manyScansJpeg: not a progressive JPEG');
  const ncomp = sof[5]!;
  const ids = Array.from({ length: ncomp }, (_, i) => sof![6 + i * 3]!);
  const sos = Buffer.from([0xff, 0xda, 0x00, 6 + 2 * ncomp, ncomp, ...ids.flatMap((id) => [id, 0x00]), 0x00, 0x00, 0x10]);
  const scans = Math.max(1, Math.floor((totalBytes - firstScanEnd - 2) / sos.length));
  return Buffer.concat([progressive.subarray(0, firstScanEnd), ...Array.from({ length: scans }, () => sos), Buffer.from([0xff, 0xd9])]);
}

/**
 * The same file with a harmless tag that makes its bytes unique, so a server that keys its
 * decoded sources by content (the Node host's kept masters are keyed by a hash of the bytes)
 * decodes every copy: a JPEG comment (COM) after SOI, a PNG tEXt chunk after IHDR, a lossy
 * WebP rewritten to the extended format (VP8X) with an XMP chunk.
 */
export function uniqueCopy(bytes: Buffer, format: SourceFormat, n: number): Buffer {
  const tag = Buffer.from(`avatar-edge bench copy ${n}`, 'latin1');
  if (format === 'jpeg') {
    const com = Buffer.alloc(4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(tag.length + 2, 2);
    return Buffer.concat([bytes.subarray(0, 2), com, tag, bytes.subarray(2)]);
  }
  if (format === 'png') {
    const ihdrEnd = 8 + 12 + bytes.readUInt32BE(8);
    return Buffer.concat([bytes.subarray(0, ihdrEnd), pngChunk('tEXt', Buffer.concat([Buffer.from('Comment\0', 'latin1'), tag])), bytes.subarray(ihdrEnd)]);
  }
  if (bytes.toString('latin1', 12, 16) !== 'VP8 ') throw new Error('uniqueCopy: only simple lossy WebP is handled');
  const vp8 = bytes.subarray(12, 12 + 8 + bytes.readUInt32LE(16));
  // The VP8 key frame header: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
  const width = vp8.readUInt16LE(8 + 6) & 0x3fff;
  const height = vp8.readUInt16LE(8 + 8) & 0x3fff;
  const vp8x = Buffer.alloc(18);
  vp8x.write('VP8X', 0, 'latin1');
  vp8x.writeUInt32LE(10, 4);
  vp8x[8] = 0x04; // XMP metadata present
  vp8x.writeUIntLE(width - 1, 12, 3);
  vp8x.writeUIntLE(height - 1, 15, 3);
  const xmpHead = Buffer.alloc(8);
  xmpHead.write('XMP ', 0, 'latin1');
  xmpHead.writeUInt32LE(tag.length, 4);
  const xmp = Buffer.concat([xmpHead, tag, Buffer.alloc(tag.length % 2)]);
  const vp8Padded = Buffer.concat([vp8, Buffer.alloc(vp8.length % 2)]);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + vp8x.length + vp8Padded.length + xmp.length, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, vp8x, vp8Padded, xmp]);
}

interface Recipe {
  id: string;
  name: string;
  description: string;
  format: SourceFormat;
  make: () => Promise<Buffer>;
}

const photo = (w: number, h: number) => sharp(join(CORPUS_DIR, 'seeding.jpg')).resize(w, h, { fit: 'cover' });
const solid = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 120, b: 80 } } });

const RECIPES: Recipe[] = [
  {
    id: 'h-trunc-png',
    name: 'truncated PNG',
    description: '2000×1500 photo PNG, zlib data cut at half, every chunk CRC valid',
    format: 'png',
    make: async () => truncatePng(await photo(2000, 1500).png().toBuffer(), 0.5),
  },
  {
    id: 'h-trunc-jpeg',
    name: 'truncated JPEG',
    description: '4000×3000 baseline JPEG q85, first 25% of its bytes',
    format: 'jpeg',
    make: async () => {
      const full = await photo(4000, 3000).jpeg({ quality: 85, mozjpeg: false }).toBuffer();
      return full.subarray(0, Math.floor(full.length / 4));
    },
  },
  {
    id: 'h-many-scans',
    name: 'progressive JPEG, thousands of empty scans',
    description: '4000×3000 progressive JPEG (one colour): its DC scan, then ~16,000 empty DC-refinement scans, 250 KB',
    format: 'jpeg',
    make: async () => {
      const base = await solid(4000, 3000).jpeg({ quality: 85, progressive: true, mozjpeg: false }).toBuffer();
      return manyScansJpeg(base, 250_000);
    },
  },
  {
    id: 'h-webp-7000',
    name: 'WebP 7000×7000',
    description: 'real 7000×7000 single-colour lossy WebP (49 MP, under the 50 MP limit), 85 KB',
    format: 'webp',
    make: () => solid(7000, 7000).webp({ quality: 80 }).toBuffer(),
  },
  {
    id: 'h-png-7000',
    name: 'PNG 7000×7000',
    description: 'real 7000×7000 single-colour PNG, deflate level 9 (49 MP), 153 KB',
    format: 'png',
    make: () => solid(7000, 7000).png({ compressionLevel: 9 }).toBuffer(),
  },
  {
    id: 'h-png16',
    name: '16-bit PNG',
    description: '2048×1536 photo, 16 bits per channel RGB',
    format: 'png',
    make: () => photo(2048, 1536).toColourspace('rgb16').png().toBuffer(),
  },
];

/** The input requested 200 times for RSS growth: small, so 200 copies cost little disk. */
const REPEAT: Recipe = {
  id: 'h-fail',
  name: 'truncated PNG (small)',
  description: '800×600 photo PNG, zlib data cut at 40%, CRCs valid',
  format: 'png',
  make: async () => truncatePng(await photo(800, 600).png().toBuffer(), 0.4),
};

const EXT: Record<SourceFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

async function materialise(): Promise<HostileInput[]> {
  const all = [...RECIPES, REPEAT];
  const key = createHash('sha256')
    .update(JSON.stringify({ GENERATOR, vips: sharp.versions.vips, all: all.map((r) => [r.id, r.description]) }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'avatar-bench-originals', `hostile-${key}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const cached = JSON.parse(readFileSync(manifest, 'utf8')) as HostileInput[];
    if (cached.every((c) => existsSync(c.path))) return cached;
  }
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const out: HostileInput[] = [];
  for (const r of all) {
    const data = await r.make();
    const file = `${r.id}.${EXT[r.format]}`;
    await writeFile(join(work, file), data);
    out.push({ id: r.id, name: r.name, description: r.description, format: r.format, path: join(dir, file), size: data.byteLength });
  }
  await writeFile(join(work, 'manifest.json'), JSON.stringify(out, null, 1));
  await rm(dir, { recursive: true, force: true });
  await rename(work, dir);
  return out;
}

/** The classes, one file each, and the small failing input for the 200× run (last). */
export async function hostileInputs(): Promise<{ classes: HostileInput[]; repeat: HostileInput }> {
  const all = await materialise();
  return { classes: all.filter((h) => h.id !== REPEAT.id), repeat: all.find((h) => h.id === REPEAT.id)! };
}
