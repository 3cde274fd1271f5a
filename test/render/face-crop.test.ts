/**
 * Face-aware cover crops on the labelled set (test/fixtures/faces/faces.json: real portraits
 * with hand-drawn face boxes, made off-centre, composed, rotated by EXIF, plus photos without
 * a face), through the real renderer with the real detector.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { focalFor } from '../../src/core/focal-point.js';
import { orientedSize, sniffImage } from '../../src/core/image/sniff.js';
import type { Variant } from '../../src/core/variant.js';
import { loadFaceDetector } from '../../src/hosts/node/face-model.js';
import { decodeGrid, type FaceDetector, netSize } from '../../src/render/focal/face-detector.js';
import { createFocalFinder, detectFaces, detectionImage, type FocalFinder } from '../../src/render/focal/find-focal.js';
import { planGeometry, type Rect } from '../../src/render/geometry.js';
import type { JsquashRenderer } from '../../src/render/jsquash-renderer.js';
import { codecModules, decodeOutput, renderer as makeRenderer, variant } from './helpers.js';

const DIR = new URL('../fixtures/faces/', import.meta.url).pathname;
interface Case {
  file: string;
  faces: Rect[];
}
const CASES = (JSON.parse(readFileSync(`${DIR}faces.json`, 'utf8')) as { cases: Case[] }).cases;
const bytes = (file: string) => new Uint8Array(readFileSync(DIR + file));
const inside = (face: Rect, crop: Rect) => face.x >= crop.x && face.y >= crop.y && face.x + face.width <= crop.x + crop.width && face.y + face.height <= crop.y + crop.height;
const withGravity = (v: Variant, gravity: Variant['gravity']): Variant => ({ ...v, gravity });
/** Mean absolute difference per RGB channel, 0–255. */
function meanAbsDiff(a: ImageData, b: ImageData): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) for (let c = 0; c < 3; c++) sum += Math.abs(a.data[i + c]! - b.data[i + c]!);
  return sum / ((a.data.length / 4) * 3);
}

let renderer: JsquashRenderer;
let detector: FaceDetector;
let calls = 0;
beforeAll(async () => {
  detector = await loadFaceDetector((await codecModules()).faceNet);
  const find = createFocalFinder(detector);
  const counted: FocalFinder = (image, orientation) => (calls++, find(image, orientation));
  renderer = await makeRenderer({ findFocal: counted });
}, 60_000);

describe('face crops on the labelled set', () => {
  for (const c of CASES.filter((c) => c.faces.length > 0)) {
    it(`${c.file}: every labelled face is inside the square cover crop at 64–512 px`, async () => {
      const source = bytes(c.file);
      const shown = orientedSize(sniffImage(source)!);
      const r = await renderer.render(source, withGravity(variant(256, 256, 'cover', 'jpeg'), 'auto'));
      expect(r.focal?.face).toBeTruthy();
      const out = await decodeOutput(r.body);
      expect([out.width, out.height]).toEqual([256, 256]);
      for (const size of [64, 128, 256, 512]) {
        const { crop } = planGeometry(shown, { width: size, height: size, fit: 'cover' }, focalFor(r.focal, 'face'));
        for (const face of c.faces) expect(inside(face, crop), `${size}px crop ${JSON.stringify(crop)} face ${JSON.stringify(face)}`).toBe(true);
      }
    }, 30_000);
  }

  for (const c of CASES.filter((c) => c.faces.length === 0)) {
    it(`${c.file}: no face found, a salient point or the centre, and the crop renders`, async () => {
      const r = await renderer.render(bytes(c.file), withGravity(variant(128, 128, 'cover', 'webp'), 'auto'));
      expect(r.focal?.face).toBeNull();
      const out = await decodeOutput(r.body);
      expect([out.width, out.height]).toEqual([128, 128]);
    }, 30_000);
  }
});

describe('the stored focal record', () => {
  it('a render that carries the record does not detect again, and crops the same', async () => {
    const source = bytes('hopper-left.jpg');
    const v = withGravity(variant(128, 128, 'cover', 'png'), 'face');
    const first = await renderer.render(source, v);
    expect(first.focal?.face).toBeTruthy();
    const before = calls;
    const again = await renderer.render(source, { ...v, focal: first.focal });
    expect(calls).toBe(before);
    expect(again.focal).toBeUndefined();
    expect(again.timings.detect).toBeUndefined();
    // The same crop; not the same bytes: the render that detected decoded the photo finer
    // (master.ts needsDetectionScale) than this one, which decodes at the avatar's scale.
    const [a, b] = [await decodeOutput(first.body), await decodeOutput(again.body)];
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(meanAbsDiff(a, b)).toBeLessThan(4);
    const centre = await decodeOutput((await renderer.render(source, withGravity(v, 'center'))).body);
    expect(meanAbsDiff(a, centre)).toBeGreaterThan(20);
  }, 30_000);

  it('centre gravity never detects and renders the bytes it did before gravity existed', async () => {
    const source = bytes('hopper-left.jpg');
    const before = calls;
    const plain = await renderer.render(source, variant(128, 128, 'cover', 'png'));
    const centre = await renderer.render(source, withGravity(variant(128, 128, 'cover', 'png'), 'center'));
    expect(calls).toBe(before);
    expect(Buffer.from(centre.body).equals(Buffer.from(plain.body))).toBe(true);
    // And the face crop really is another crop of the photo.
    const face = await renderer.render(source, withGravity(variant(128, 128, 'cover', 'png'), 'face'));
    expect(Buffer.from(face.body).equals(Buffer.from(plain.body))).toBe(false);
  }, 30_000);

  it('a kept master crops around the same face as the first render (same focal point, same bytes)', async () => {
    const source = bytes('hopper-right.jpg');
    const v = withGravity(variant(96, 96, 'cover', 'png'), 'auto');
    const kept = await renderer.renderKeepingMaster(source, v);
    expect(kept.focal?.face).toBeTruthy();
    const fromMaster = await renderer.renderFromMaster(kept.master!, { ...v, focal: kept.focal });
    expect(Buffer.from(fromMaster.body).equals(Buffer.from(kept.body))).toBe(true);
    const centre = await renderer.renderFromMaster(kept.master!, variant(96, 96, 'cover', 'png'));
    expect(Buffer.from(centre.body).equals(Buffer.from(kept.body))).toBe(false);
  }, 30_000);
});

describe('detection scale', () => {
  it("a small avatar finds the record a large one does: the decode that detects is not the avatar's reduced one", async () => {
    for (const file of ['camera-left.jpg', 'hopper-right.jpg', '../../../samples/demo/hopper.jpg']) {
      const source = bytes(file);
      const large = await renderer.render(source, withGravity(variant(512, 512, 'cover', 'png'), 'auto'));
      const small = await renderer.render(source, withGravity(variant(32, 32, 'cover', 'png'), 'auto'));
      expect(small.focal?.face, file).toBeTruthy();
      // The 512 px render decodes at full size and box-shrinks for the detector, the 32 px one
      // decodes at the detector's scale (1/2 for these): other pixels, the same point to 1/200.
      for (const k of ['x', 'y'] as const) expect(Math.abs(small.focal!.face![k] - large.focal!.face![k]), file).toBeLessThanOrEqual(0.005);
    }
  }, 60_000);
});

describe('detection passes', () => {
  const passes = async (file: string) => {
    const source = bytes(file);
    // What a 64 px face/auto crop without a record decodes: no coarser than a full master.
    const r = await renderer.renderKeepingMaster(source, withGravity(variant(64, 64, 'cover', 'png'), 'auto'));
    const small = detectionImage(r.master!.image, r.master!.info.orientation);
    let n = 0;
    const counting: FaceDetector = { backend: detector.backend, detect: (rgb, w, h) => (n++, detector.detect(rgb, w, h)) };
    const faces = await detectFaces(counting, small);
    return { n, faces, small };
  };

  it('the network sees the whole photo at its own aspect ratio, short side 256 px, long side at most 3 short sides', () => {
    expect(netSize(512, 256)).toEqual({ width: 512, height: 256, scale: 1 });
    expect(netSize(160, 320)).toEqual({ width: 256, height: 512, scale: 1.6 });
    expect(netSize(300, 300)).toMatchObject({ width: 256, height: 256 });
    expect(netSize(1000, 100)).toMatchObject({ width: 768, height: 77 });
  });

  it('one pass for a square photo and for 2:1 and 3:1 photos with mid-sized faces', async () => {
    for (const [file, faces] of [
      ['../../../samples/demo/hopper.jpg', 1],
      ['camera-left.jpg', 1],
      ['astronaut-top.jpg', 1],
      ['group.jpg', 2],
    ] as const) {
      const r = await passes(file);
      expect(r.n, file).toBe(1);
      expect(r.faces, file).toHaveLength(faces);
    }
  }, 30_000);

  it('decodes the output grid as YOLOv2 boxes and keeps one box per face', () => {
    // 1 row, 2 cells, 1 anchor (1 × 1 cells): a confident box in each cell, overlapping
    // boxes in the same place are merged, unconfident ones dropped.
    const logit = (p: number) => Math.log(p / (1 - p));
    const grid = [0, 0, 0, 0, logit(0.9), 0, 0, Math.log(2), 0, logit(0.4)];
    expect(decodeGrid(grid, 1, 2, [{ x: 1, y: 1 }], 32, 0.4)).toEqual([{ x: 0, y: 0, width: 32, height: 32, score: expect.closeTo(0.9, 6) }]);
    const two = [0, 0, 0, 0, logit(0.9), 0, 0, 0, 0, logit(0.8)];
    expect(decodeGrid(two, 1, 2, [{ x: 1, y: 1 }], 32, 0.4).map((f) => f.x)).toEqual([0, 32]);
    const same = [0, 0, 0, 0, logit(0.9), -1e9, 0, Math.log(3), 0, logit(0.8)];
    // The second cell's box is centred at x = 32 and 96 wide: it contains the first one.
    expect(decodeGrid(same, 1, 2, [{ x: 1, y: 1 }], 32, 0.3)).toHaveLength(1);
  });
});
