/**
 * HEIF-family files (ISO BMFF: an `ftyp` box first): AVIF, which renders, and HEIC, which does
 * not (no decoder with a licence this project can ship: HEVC is patent-encumbered and libde265
 * is LGPL). Reads the header boxes only. Web APIs only: also runs on the Fastly edge.
 */
const ascii = (b: Uint8Array, at: number, len: number): string => (at + len > b.length ? '' : String.fromCharCode(...b.subarray(at, at + len)));
const u32be = (b: Uint8Array, i: number): number => (((b[i] ?? 0) << 24) >>> 0) + (((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0));

/** Box payloads are only looked for in the file's first bytes: the `meta` box comes before `mdat`. */
const HEADER_BYTES = 1 << 20;

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);

export type HeifKind = 'avif' | 'heic' | 'heif';

/** What an `ftyp`-led file is, by its brands; undefined when it is not one. */
export function heifKind(b: Uint8Array): HeifKind | undefined {
  if (ascii(b, 4, 4) !== 'ftyp') return undefined;
  const size = u32be(b, 0);
  if (size < 16 || size > 4096) return undefined;
  const brands = [ascii(b, 8, 4)];
  for (let i = 16; i + 4 <= Math.min(size, b.length); i += 4) brands.push(ascii(b, i, 4));
  if (brands.some((x) => AVIF_BRANDS.has(x))) return 'avif';
  if (brands.some((x) => HEIC_BRANDS.has(x))) return 'heic';
  return brands.includes('mif1') || brands.includes('msf1') ? 'heif' : undefined;
}

export interface HeifHeader {
  width: number;
  height: number;
  hasAlpha: boolean;
  /** The ICC profile of a `colr` box of type `prof` or `rICC`, if any. */
  icc?: Uint8Array;
  /** The H.273 colour primaries and transfer codes of a `colr` box of type `nclx`, if any. */
  cicp?: { primaries: number; transfer: number };
  /** EXIF-style orientation from `irot` (and `imir` when there is no rotation). */
  orientation: number;
}

/** Calls `visit` for each box in b[start, end): type, payload start, payload end. */
function walk(b: Uint8Array, start: number, end: number, visit: (type: string, from: number, to: number) => void): void {
  let i = start;
  while (i + 8 <= end) {
    let size = u32be(b, i);
    let header = 8;
    if (size === 1) {
      if (u32be(b, i + 8) !== 0) return; // > 4 GiB
      size = u32be(b, i + 12);
      header = 16;
    } else if (size === 0) {
      size = end - i;
    }
    if (size < header || i + size > end) return;
    visit(ascii(b, i + 4, 4), i + header, i + size);
    i += size;
  }
}

const ALPHA_URN = 'urn:mpeg:mpegB:cicp:systems:auxiliary:alpha';
const ALPHA_URN_HEVC = 'urn:mpeg:hevc:2015:auxid:1';

/**
 * Dimensions of an AVIF from its `ispe` properties: the largest one (the primary image or the
 * grid it is tiled into; thumbnails and alpha planes are not larger), so limits see the
 * decoded size.
 */
export function heifHeader(b: Uint8Array): HeifHeader | null {
  const end = Math.min(b.length, HEADER_BYTES);
  let width = 0;
  let height = 0;
  let hasAlpha = false;
  let rotation = -1;
  let mirror = -1;
  let icc: Uint8Array | undefined;
  let cicp: HeifHeader['cicp'];
  const properties = (from: number, to: number) =>
    walk(b, from, to, (type, f, t) => {
      if (type === 'ispe' && t - f >= 12) {
        const [w, h] = [u32be(b, f + 4), u32be(b, f + 8)];
        if (w * h > width * height) [width, height] = [w, h];
      } else if (type === 'auxC') {
        const urn = ascii(b, f + 4, Math.min(t - f - 4, 64)).split('\0')[0];
        if (urn === ALPHA_URN || urn === ALPHA_URN_HEVC) hasAlpha = true;
      } else if (type === 'irot' && t > f && rotation < 0) {
        rotation = b[f]! & 3;
      } else if (type === 'imir' && t > f && mirror < 0) {
        mirror = b[f]! & 1;
      } else if (type === 'colr' && !icc && (ascii(b, f, 4) === 'prof' || ascii(b, f, 4) === 'rICC') && t - f > 4) {
        icc = b.subarray(f + 4, t);
      } else if (type === 'colr' && !cicp && ascii(b, f, 4) === 'nclx' && t - f >= 11) {
        cicp = { primaries: (b[f + 4]! << 8) | b[f + 5]!, transfer: (b[f + 6]! << 8) | b[f + 7]! };
      }
    });
  walk(b, 0, end, (type, from, to) => {
    if (type !== 'meta') return;
    // meta is a full box: 4 bytes of version and flags before its children.
    walk(b, from + 4, to, (t2, f2, e2) => {
      if (t2 !== 'iprp') return;
      walk(b, f2, e2, (t3, f3, e3) => {
        if (t3 === 'ipco') properties(f3, e3);
      });
    });
  });
  if (width <= 0 || height <= 0) return null;
  // irot: anticlockwise quarter turns; EXIF 8 = turn 90° anticlockwise to display, 3 = 180°, 6 = 90° clockwise.
  const orientation = rotation > 0 ? [1, 8, 3, 6][rotation]! : mirror === 0 ? 2 : mirror === 1 ? 4 : 1;
  return { width, height, hasAlpha, orientation, ...(icc ? { icc } : {}), ...(cicp ? { cicp } : {}) };
}

/** A name for formats people upload that are not supported, for the error message. */
export function unsupportedFormatName(b: Uint8Array): string | undefined {
  const kind = heifKind(b);
  if (kind === 'heic' || kind === 'heif') return 'HEIC';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return 'TIFF';
  if (ascii(b, 0, 2) === 'BM') return 'BMP';
  if ((b[0] === 0xff && b[1] === 0x0a) || ascii(b, 4, 8) === 'JXL \r\n\x87\n') return 'JPEG XL';
  if (/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/i.test(ascii(b, 0, Math.min(b.length, 256)))) return 'SVG';
  return undefined;
}
