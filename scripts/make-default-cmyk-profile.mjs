#!/usr/bin/env node
// Writes wasm/jpeg-scaled/src/default-cmyk.icc: the CMYK profile a CMYK JPEG without its own
// profile is taken to be in (wasm/jpeg-scaled/src/colour.rs). It is the profile libvips (and so
// sharp) assumes for such files, Argyll's "Chemical proof" by Graeme W. Gill, released into the
// public domain, cut down to the tags a CMYK → sRGB transform reads (header, desc, cprt, wtpt,
// bkpt, one A2B table serving all three intents): 55 KB of its 940 KB. Run only to regenerate
// it; the file is committed. Needs the sharp dev dependency.
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';

const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
  .withIccProfile('cmyk')
  .jpeg()
  .toBuffer();
const full = (await sharp(tagged).metadata()).icc;
if (!full) throw new Error('sharp wrote no profile');

const view = new DataView(full.buffer, full.byteOffset, full.byteLength);
const tags = new Map();
for (let i = 0, n = view.getUint32(128); i < n; i++) {
  const at = 132 + i * 12;
  tags.set(full.toString('latin1', at, at + 4), full.subarray(view.getUint32(at + 4), view.getUint32(at + 4) + view.getUint32(at + 8)));
}
if (!tags.get('desc')?.toString('latin1').includes('Chemical proof')) {
  throw new Error('sharp’s CMYK profile is not the expected one (Chemical proof)');
}
const keep = ['desc', 'cprt', 'wtpt', 'bkpt', 'A2B0'];
const shared = ['A2B1', 'A2B2']; // point at A2B0's data
const pad = (b) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
const tableSize = 4 + (keep.length + shared.length) * 12;
let offset = 128 + tableSize;
const table = Buffer.alloc(tableSize);
table.writeUInt32BE(keep.length + shared.length, 0);
const bodies = [];
const where = new Map();
keep.forEach((sig, i) => {
  const body = tags.get(sig);
  if (!body) throw new Error(`profile has no ${sig}`);
  table.write(sig, 4 + i * 12, 'latin1');
  table.writeUInt32BE(offset, 8 + i * 12);
  table.writeUInt32BE(body.length, 12 + i * 12);
  where.set(sig, [offset, body.length]);
  bodies.push(pad(body));
  offset += pad(body).length;
});
shared.forEach((sig, j) => {
  const i = keep.length + j;
  table.write(sig, 4 + i * 12, 'latin1');
  table.writeUInt32BE(where.get('A2B0')[0], 8 + i * 12);
  table.writeUInt32BE(where.get('A2B0')[1], 12 + i * 12);
});
const header = Buffer.from(full.subarray(0, 128));
const out = Buffer.concat([header, table, ...bodies]);
out.writeUInt32BE(out.length, 0);
out.fill(0, 84, 100); // profile ID (MD5) no longer matches: zero means "not computed"
writeFileSync(new URL('../wasm/jpeg-scaled/src/default-cmyk.icc', import.meta.url), out);
console.log(`default-cmyk.icc: ${out.length} bytes (from ${full.length})`);
