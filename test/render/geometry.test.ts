import { describe, expect, it } from 'vitest';
import type { Fit } from '../../src/core/variant.js';
import { planGeometry } from '../../src/render/geometry.js';

const plan = (sw: number, sh: number, width: number, height: number, fit: Fit) => planGeometry({ width: sw, height: sh }, { width, height, fit });
const out = (sw: number, sh: number, w: number, h: number, fit: Fit) => {
  const p = plan(sw, sh, w, h, fit);
  return `${p.canvas.width}x${p.canvas.height}`;
};

describe('planGeometry: output size per fit', () => {
  // [source, box, cover, contain, inside]
  const CASES: [string, string, string, string, string][] = [
    ['500x333', '100x100', '100x100', '100x100', '100x67'],
    ['500x333', '50x200', '50x200', '50x200', '50x33'],
    ['500x333', '1000x1000', '1000x1000', '1000x1000', '500x333'],
    ['500x333', '500x333', '500x333', '500x333', '500x333'],
    ['333x500', '128x128', '128x128', '128x128', '85x128'],
    ['5312x2988', '256x256', '256x256', '256x256', '256x144'],
    ['1x4000', '64x64', '64x64', '64x64', '1x64'],
  ];
  for (const [src, box, cover, contain, inside] of CASES) {
    const [sw, sh] = src.split('x').map(Number) as [number, number];
    const [w, h] = box.split('x').map(Number) as [number, number];
    it(`${src} into ${box}: cover ${cover}, contain ${contain}, inside ${inside}`, () => {
      expect(out(sw, sh, w, h, 'cover')).toBe(cover);
      expect(out(sw, sh, w, h, 'contain')).toBe(contain);
      expect(out(sw, sh, w, h, 'inside')).toBe(inside);
    });
  }

  it('a 0 width or height follows the source aspect and never enlarges, for every fit', () => {
    for (const fit of ['cover', 'contain', 'inside'] as const) {
      expect(out(500, 333, 250, 0, fit)).toBe('250x167');
      expect(out(500, 333, 0, 100, fit)).toBe('150x100');
      expect(out(500, 333, 1000, 0, fit)).toBe('500x333');
      expect(out(500, 333, 0, 0, fit)).toBe('500x333');
      expect(plan(500, 333, 250, 0, fit).crop).toEqual({ x: 0, y: 0, width: 500, height: 333 });
    }
  });
});

describe('planGeometry: crop and placement', () => {
  it('cover crops the overflow symmetrically and keeps the box aspect', () => {
    expect(plan(500, 333, 100, 100, 'cover').crop).toEqual({ x: 83, y: 0, width: 333, height: 333 });
    expect(plan(333, 500, 100, 50, 'cover').crop).toEqual({ x: 0, y: 166, width: 333, height: 167 });
    const p = plan(5312, 2988, 256, 256, 'cover');
    expect(p.crop).toEqual({ x: 1162, y: 0, width: 2988, height: 2988 });
    expect(p.scaled).toEqual({ width: 256, height: 256 });
  });

  it('cover never crops more than the source has (upscaling)', () => {
    const p = plan(10, 10, 100, 50, 'cover');
    expect(p.crop).toEqual({ x: 0, y: 2, width: 10, height: 5 });
  });

  it('contain scales to fit and centres on the box', () => {
    const p = plan(500, 333, 100, 100, 'contain');
    expect(p.scaled).toEqual({ width: 100, height: 67 });
    expect(p.offset).toEqual({ x: 0, y: 16 });
    expect(plan(333, 500, 100, 100, 'contain').offset).toEqual({ x: 16, y: 0 });
    expect(plan(500, 333, 1000, 1000, 'contain').scaled).toEqual({ width: 1000, height: 666 });
  });

  it('inside and contain never letterbox when the aspect already matches', () => {
    expect(plan(400, 200, 200, 100, 'contain').offset).toEqual({ x: 0, y: 0 });
    expect(plan(400, 200, 200, 100, 'inside').canvas).toEqual({ width: 200, height: 100 });
  });
});
