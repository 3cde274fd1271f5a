/**
 * A progressive JPEG sends each block's DC coefficient (its average) in scans of its own,
 * ahead of the AC scans that carry the detail. A decode at 1/8 scale uses nothing but the DC
 * (the 1×1 IDCT is the block average), so the AC scans can be dropped before decoding without
 * changing a pixel: for a 16 MP phone photo that is ~85% of the bytes and ~70% of the decode
 * time (npm run bench). Baseline JPEGs interleave DC and AC in one scan: nothing to drop.
 */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const SOF2 = 0xc2; // progressive, Huffman

/**
 * More scans than any encoder writes (libjpeg and mozjpeg: 10 at most for colour; photo
 * editors fewer). Every scan is a pass over the whole image, so a file made of thousands of
 * empty scans costs tens of seconds to decode from a few hundred kilobytes.
 */
export const MAX_JPEG_SCANS = 100;

/**
 * What is wrong with the JPEG's marker structure, or null when it is sound: the stream must
 * reach its end-of-image marker (a cut file does not: decoders would fill the rest grey),
 * carry at most MAX_JPEG_SCANS scans, and its scans must bring every coefficient of every
 * component to full precision (a progressive file cut between scans, with an end marker put
 * back, would otherwise decode blurred or with coarse colour). A marker walk, no decoding.
 */
export function jpegStructureProblem(bytes: Uint8Array): string | null {
  let scans = 0;
  let complete = false;
  /** Component id → the finest precision (successive-approximation low bit) each coefficient reached. */
  const precision = new Map<number, number[]>();
  const walked = segments(bytes, (marker, at) => {
    if (marker === EOI) complete = true;
    if (isFrameHeader(marker)) {
      const count = bytes[at + 9] ?? 0;
      for (let c = 0; c < count; c++) precision.set(bytes[at + 10 + 3 * c] ?? -1, new Array<number>(64).fill(Infinity));
    }
    if (marker !== SOS) return undefined;
    if (++scans > MAX_JPEG_SCANS) return 'scans';
    const count = bytes[at + 4] ?? 0;
    const p = at + 5 + 2 * count;
    const [ss = 0, se = 63, a = 0] = [bytes[p], bytes[p + 1], bytes[p + 2]];
    const al = a & 15;
    for (let c = 0; c < count; c++) {
      const reached = precision.get(bytes[at + 5 + 2 * c] ?? -1);
      if (!reached) return 'bad';
      for (let k = ss; k <= Math.min(se, 63); k++) reached[k] = Math.min(reached[k] as number, al);
    }
    return undefined;
  });
  if (walked === 'scans') return JPEG_STRUCTURE_PROBLEMS[1];
  if (walked === 'bad' || !complete) return JPEG_STRUCTURE_PROBLEMS[2];
  if (precision.size === 0) return JPEG_STRUCTURE_PROBLEMS[3];
  for (const reached of precision.values()) if (reached.some((al) => al !== 0)) return JPEG_STRUCTURE_PROBLEMS[4];
  return null;
}

/**
 * What `jpegStructureProblem` says, by the code wasm/jpeg-scaled/src/jpeg_structure.rs returns
 * for the same walk (codecs.ts `jpegStructureProblem`; 0: sound).
 */
export const JPEG_STRUCTURE_PROBLEMS: Readonly<Record<1 | 2 | 3 | 4, string>> = {
  1: `more than ${MAX_JPEG_SCANS} scans (no encoder writes that many)`,
  2: 'truncated or malformed: the marker structure does not reach the end-of-image marker',
  3: 'no frame header',
  4: 'incomplete: its scans stop before every coefficient is sent',
};

export interface JpegFrame {
  progressive: boolean;
  /** Samples stored per pixel: 1 grey, 1.5 for 4:2:0 colour, 3 for 4:4:4, 4 for CMYK or YCCK 4:4:4:4. */
  samplesPerPixel: number;
}

/** The frame header's facts that decide decode memory (decode-peak.ts), or undefined if unreadable. */
export function jpegFrame(bytes: Uint8Array): JpegFrame | undefined {
  let frame: JpegFrame | undefined;
  segments(bytes, (marker, at) => {
    if (marker === SOS) return 'stop';
    if (!isFrameHeader(marker)) return undefined;
    const count = bytes[at + 9] ?? 0;
    const factors = Array.from({ length: count }, (_, c) => bytes[at + 11 + 3 * c] ?? 0x11);
    const hMax = Math.max(1, ...factors.map((f) => f >> 4));
    const vMax = Math.max(1, ...factors.map((f) => f & 15));
    const samples = factors.reduce((n, f) => n + (f >> 4) * (f & 15), 0) / (hMax * vMax);
    // SOF2, SOF6, SOF10, SOF14: progressive (Huffman or arithmetic, sequential or differential).
    frame = { progressive: (marker & 3) === 2, samplesPerPixel: samples || 3 };
    return 'stop';
  });
  return frame;
}

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isFrameHeader = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Whether the frame header says progressive (SOF2); false for anything unreadable. */
export function isProgressiveJpeg(bytes: Uint8Array): boolean {
  return segments(bytes, (marker) => (marker === SOF2 ? 'yes' : marker === SOS ? 'no' : undefined)) === 'yes';
}

/**
 * The same progressive JPEG without its AC scans (spectral selection start > 0), or
 * undefined when the stream cannot be walked (the caller then decodes the original, whose
 * decoder reports what is wrong with it). Renders drop them in WebAssembly memory instead
 * (jpeg_structure.rs `without_ac_scans`); this is the reference it is tested against
 * (test/render/jpeg-scaled.test.ts).
 */
export function withoutAcScans(bytes: Uint8Array): Uint8Array | undefined {
  const kept: Array<[number, number]> = [];
  let start = 0;
  let complete = false;
  const walked = segments(bytes, (marker, at, end) => {
    if (marker === EOI) complete = true;
    if (marker !== SOS) return undefined;
    const components = bytes[at + 4] ?? 0;
    const spectralStart = bytes[at + 5 + 2 * components];
    if (spectralStart === undefined) return 'bad';
    if (spectralStart > 0) {
      kept.push([start, at]);
      start = end();
    }
    return undefined;
  });
  if (walked === 'bad' || !complete) return undefined;
  kept.push([start, bytes.length]);
  const out = new Uint8Array(kept.reduce((n, [a, b]) => n + b - a, 0));
  let o = 0;
  for (const [a, b] of kept) {
    out.set(bytes.subarray(a, b), o);
    o += b - a;
  }
  return out;
}

type Visit = (marker: number, at: number, end: () => number) => string | undefined;

/**
 * Walks the marker segments from SOI to EOI; `visit` sees each marker, where it starts and
 * where its segment ends (for SOS: after its entropy-coded data, found only when asked for or
 * when the walk goes on, so a visitor that stops at the first SOS reads no scan data). A
 * non-undefined result stops the walk and is returned; 'bad' when the stream is malformed.
 */
function segments(bytes: Uint8Array, visit: Visit): string | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) return 'bad';
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) {
      // Stray bytes before a marker: libjpeg skips them with a warning, and some cameras write them.
      i = bytes.indexOf(0xff, i);
      if (i === -1) return 'bad';
      continue;
    }
    const marker = bytes[i + 1] as number;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === EOI) return visit(marker, i, () => i + 2);
    if (i + 3 >= bytes.length) return 'bad';
    const length = ((bytes[i + 2] as number) << 8) | (bytes[i + 3] as number);
    const header = i + 2 + length;
    if (length < 2 || header > bytes.length) return 'bad';
    let end = marker === SOS ? -1 : header;
    const endOf = () => (end < 0 ? (end = entropyDataEnd(bytes, header)) : end);
    const stop = visit(marker, i, endOf);
    if (stop !== undefined) return stop;
    i = endOf();
  }
  return 'bad';
}

/** The next marker after entropy-coded data: 0xFF not followed by a stuffed 0x00 or an RSTn (0xFF 0xFF is fill before one). */
function entropyDataEnd(bytes: Uint8Array, from: number): number {
  let j = bytes.indexOf(0xff, from);
  while (j !== -1 && j + 1 < bytes.length) {
    const next = bytes[j + 1] as number;
    if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) return j;
    j = bytes.indexOf(0xff, j + 1);
  }
  return bytes.length;
}
