/** HEIF-family sniffing: AVIF read from its boxes, HEIC and other common formats named when refused. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors.js';
import { heifHeader, heifKind, unsupportedFormatName } from '../../../src/core/image/sniff-heif.js';
import { checkSourceLimits, sniffImage } from '../../../src/core/image/sniff.js';

const SAMPLE = new URL('../../../samples/demo/hopper.jpg', import.meta.url).pathname;
const text = (s: string) => new TextEncoder().encode(s);
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + compatible.length * 4;
  return new Uint8Array([0, 0, 0, size, ...text('ftyp'), ...text(major), 0, 0, 0, 0, ...compatible.flatMap((c) => [...text(c)]), ...new Uint8Array(64)]);
};

/** `avif` with `box` appended to its ipco, and meta, iprp and ipco grown to match. */
function withProperty(avif: Uint8Array, box: Uint8Array): Uint8Array {
  const find = (type: string, from: number) => Buffer.from(avif).indexOf(type, from, 'latin1') - 4;
  const meta = find('meta', 0);
  const iprp = find('iprp', meta);
  const ipco = find('ipco', iprp);
  const dv = new DataView(avif.buffer, avif.byteOffset);
  const end = ipco + dv.getUint32(ipco);
  const out = new Uint8Array([...avif.subarray(0, end), ...box, ...avif.subarray(end)]);
  const ov = new DataView(out.buffer);
  for (const at of [meta, iprp, ipco]) ov.setUint32(at, ov.getUint32(at) + box.length);
  return out;
}

describe('HEIF-family sniffing', () => {
  it('reads an AVIF’s size and alpha from its boxes', async () => {
    const avif = new Uint8Array(await sharp(SAMPLE).resize(320, 240, { fit: 'fill' }).avif().toBuffer());
    expect(heifKind(avif)).toBe('avif');
    expect(sniffImage(avif)).toEqual({ format: 'avif', width: 320, height: 240, hasAlpha: false, orientation: 1 });
    const alpha = new Uint8Array(await sharp(SAMPLE).resize(50).ensureAlpha(0.5).avif().toBuffer());
    expect(sniffImage(alpha)?.hasAlpha).toBe(true);
  });

  it('maps irot and imir to EXIF orientations', async () => {
    const avif = new Uint8Array(await sharp(SAMPLE).resize(64, 32, { fit: 'fill' }).avif().toBuffer());
    const box = (type: string, value: number) => new Uint8Array([0, 0, 0, 9, ...text(type), value]);
    expect(heifHeader(withProperty(avif, box('irot', 1)))?.orientation).toBe(8);
    expect(heifHeader(withProperty(avif, box('irot', 2)))?.orientation).toBe(3);
    expect(heifHeader(withProperty(avif, box('irot', 3)))?.orientation).toBe(6);
    expect(heifHeader(withProperty(avif, box('imir', 0)))?.orientation).toBe(2);
    expect(heifHeader(withProperty(avif, box('irot', 3)))?.width).toBe(64);
  });

  it('refuses HEIC naming it (upload 415, render 422), and names TIFF, BMP, JPEG XL, SVG', () => {
    const heic = ftyp('heic', 'mif1', 'heic');
    expect(sniffImage(heic)).toBeNull();
    expect(unsupportedFormatName(heic)).toBe('HEIC');
    expect(unsupportedFormatName(ftyp('mif1', 'mif1', 'hevc'))).toBe('HEIC');
    const limits = { maxSourceBytes: 1e6, maxSourcePixels: 1e6 };
    let err: unknown;
    try {
      checkSourceLimits(heic, sniffImage(heic), limits);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 422, code: 'UNSUPPORTED_FORMAT' });
    expect((err as HttpError).message).toMatch(/HEIC, which is not supported; supported sources: JPEG, PNG, WebP, AVIF, GIF/);
    expect(unsupportedFormatName(new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]))).toBe('TIFF');
    expect(unsupportedFormatName(text('BM6\x00\x00\x00'))).toBe('BMP');
    expect(unsupportedFormatName(new Uint8Array([0xff, 0x0a, 0, 0]))).toBe('JPEG XL');
    expect(unsupportedFormatName(text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('SVG');
    expect(unsupportedFormatName(text('hello, not an image'))).toBeUndefined();
  });

  it('takes no dimensions from a truncated or box-less AVIF', () => {
    expect(sniffImage(ftyp('avif', 'mif1', 'avif'))).toBeNull();
  });
});
