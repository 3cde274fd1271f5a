/**
 * Structural check of a PNG before it reaches the decoder: every chunk complete with a
 * matching CRC, IDAT present, IEND reached. Cut and corrupted files, the common failures, are
 * refused for the price of a CRC pass instead of a decode, with a message that says where.
 * (Damage inside well-formed chunks is the decoder's to find: png_rgba.rs reports it.)
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array, from: number, to: number): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = (CRC_TABLE[(c ^ (b[i] as number)) & 255] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const u32 = (b: Uint8Array, i: number): number => (((b[i] as number) << 24) | ((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number)) >>> 0;

/** Returns what is wrong with the PNG's chunk structure, or null when it is sound. */
export function pngStructureProblem(b: Uint8Array): string | null {
  let i = 8; // after the signature (checked by the sniffer)
  let idat = false;
  while (i + 12 <= b.length) {
    const len = u32(b, i);
    const end = i + 8 + len;
    if (end + 4 > b.length) return `truncated ${chunkType(b, i)} chunk at byte ${i}`;
    if (crc32(b, i + 4, end) !== u32(b, end)) return `CRC mismatch in ${chunkType(b, i)} chunk at byte ${i}`;
    const type = chunkType(b, i);
    if (type === 'IDAT') idat = true;
    if (type === 'IEND') return idat ? null : 'no IDAT chunk';
    i = end + 4;
  }
  return 'truncated: no IEND chunk';
}

function chunkType(b: Uint8Array, i: number): string {
  return String.fromCharCode(b[i + 4] ?? 63, b[i + 5] ?? 63, b[i + 6] ?? 63, b[i + 7] ?? 63);
}
