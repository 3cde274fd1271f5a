import { describe, expect, it } from 'vitest';
import { applyGetOptions, etagMatches } from '../../src/storage/get-options.js';

describe('get options emulated over a whole object', () => {
  const obj = { body: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), etag: '"v1"', contentType: 'image/png' };

  it('slices inclusive ranges and clamps the end', () => {
    expect(applyGetOptions(obj, { range: { start: 2, end: 4 } })).toMatchObject({ status: 206, size: 10, body: Uint8Array.from([2, 3, 4]) });
    expect(Array.from(applyGetOptions(obj, { range: { start: 8, end: 100 } }).body)).toEqual([8, 9]);
    expect(applyGetOptions(obj, {})).toMatchObject({ status: 200, size: 10 });
  });

  it('refuses unsatisfiable and malformed ranges', () => {
    expect(() => applyGetOptions(obj, { range: { start: 10 } })).toThrow(expect.objectContaining({ status: 416, code: 'InvalidRange' }));
    expect(() => applyGetOptions(obj, { range: { start: 5, end: 4 } })).toThrow(RangeError);
    expect(() => applyGetOptions(obj, { range: { start: -1 } })).toThrow(RangeError);
  });

  it('answers 304 with no body on a matching If-None-Match (weak compare, lists, *)', () => {
    expect(applyGetOptions(obj, { ifNoneMatch: '"v1"' })).toMatchObject({ status: 304, etag: '"v1"' });
    expect(applyGetOptions(obj, { ifNoneMatch: '"v1"' }).body.byteLength).toBe(0);
    expect(etagMatches('W/"v1"', '"v1"')).toBe(true);
    expect(etagMatches('"v0", "v1"', '"v1"')).toBe(true);
    expect(etagMatches('*', undefined)).toBe(true);
    expect(etagMatches('"v2"', '"v1"')).toBe(false);
    expect(etagMatches('"v1"', undefined)).toBe(false);
  });
});
