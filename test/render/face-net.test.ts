/**
 * The face kernel (wasm/face_net.wasm, render/focal/face-net.ts) against the same weights on
 * TensorFlow.js (test/support/tfjs-face-detector.ts: the pass the service ran before the
 * kernel), on every photo of the labelled set as the focal finder gives it to the detector.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS } from '../../src/core/config/service-config.js';
import { loadFaceDetector } from '../../src/hosts/node/face-model.js';
import { createCodecs } from '../../src/render/codecs.js';
import { decodeSource } from '../../src/render/decode-source.js';
import type { DetectedFace, FaceDetector } from '../../src/render/focal/face-detector.js';
import { MEAN_RGB, paddedNetSize } from '../../src/render/focal/face-detector.js';
import { createFaceNet, weightsForKernel } from '../../src/render/focal/face-net.js';
import { detectFaces, detectionImage, detectionShrink, rgbOf } from '../../src/render/focal/find-focal.js';
import { toImageData } from '../../src/render/image-data.js';
import { loadTfjsFaceDetector } from '../support/tfjs-face-detector.js';
import { codecModules } from './helpers.js';

const DIR = new URL('../fixtures/faces/', import.meta.url).pathname;
const MODEL = new URL('../../node_modules/@vladmandic/face-api/model/', import.meta.url).pathname;
const CASES = (JSON.parse(readFileSync(`${DIR}faces.json`, 'utf8')) as { cases: { file: string }[] }).cases;

const iou = (a: DetectedFace, b: DetectedFace) => {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
};

const weights = () => weightsForKernel(readFileSync(`${MODEL}tiny_face_detector_model.bin`), JSON.parse(readFileSync(`${MODEL}tiny_face_detector_model-weights_manifest.json`, 'utf8')));

let kernel: FaceDetector;
let tfjs: FaceDetector;
beforeAll(async () => {
  kernel = await loadFaceDetector((await codecModules()).faceNet);
  tfjs = await loadTfjsFaceDetector('wasm');
}, 60_000);

describe('the face kernel finds what TensorFlow.js finds with the same weights', () => {
  it('on every photo of the labelled set: the same faces, boxes at IoU ≥ 0.95, scores within 0.01', async () => {
    const codecs = createCodecs(await codecModules());
    let faces = 0;
    for (const c of CASES) {
      const { image, info } = await decodeSource(codecs, new Uint8Array(readFileSync(DIR + c.file)), LIMIT_DEFAULTS, {});
      const small = detectionImage(image, info.orientation);
      const [ours, reference] = [await detectFaces(kernel, small), await detectFaces(tfjs, small)];
      expect(ours.length, c.file).toBe(reference.length);
      for (const r of reference) {
        const best = ours.reduce((a, b) => (iou(a, r) >= iou(b, r) ? a : b));
        expect(iou(best, r), `${c.file} ${JSON.stringify(r)}`).toBeGreaterThanOrEqual(0.95);
        expect(Math.abs(best.score - r.score), c.file).toBeLessThanOrEqual(0.01);
      }
      faces += reference.length;
    }
    // The set's 13 labelled faces, and nothing on the two photos without one.
    expect(faces).toBe(13);
  }, 120_000);
});

describe('the kernel module', () => {
  it('refuses weights that are not the tiny face detector', async () => {
    const module = (await codecModules()).faceNet;
    expect(() => createFaceNet(module, weights().subarray(1))).toThrow(/not the tiny face detector/);
  });

  it('refuses inputs past its bounds instead of growing without limit', async () => {
    const net = createFaceNet((await codecModules()).faceNet, weights());
    const rgb = new Uint8Array(64 * 64 * 3);
    const ok = { rgb, width: 64, height: 64, net: { width: 64, height: 64 }, padded: { width: 64, height: 64 }, meanRgb: MEAN_RGB };
    expect(net.run(ok)).toHaveLength(2 * 2 * 25);
    expect(() => net.run({ ...ok, padded: { width: 70, height: 64 } })).toThrow(/out of bounds/);
    expect(() => net.run({ ...ok, padded: { width: 2048, height: 64 }, net: { width: 2048, height: 64 } })).toThrow(/out of bounds/);
    expect(() => net.run({ ...ok, width: 65 })).toThrow(/out of bounds/);
    // The largest input the finder gives it (320 × 960) runs, in a few MiB.
    const big = paddedNetSize(960, 320);
    expect(net.run({ rgb: new Uint8Array(960 * 320 * 3), width: 960, height: 320, ...big, meanRgb: MEAN_RGB })).toHaveLength((big.padded.width / 32) * (big.padded.height / 32) * 25);
    expect(net.memoryBytes()).toBeLessThan(16 * 1024 * 1024);
  });

  it('makes the detection copy with the same pixels as the finder in JavaScript, and the same faces from it', async () => {
    const net = createFaceNet((await codecModules()).faceNet, weights());
    const codecs = createCodecs(await codecModules());
    const same = (image: ImageData, factor: number, orientation: number, what: string) => {
      const size = net.shrink(image, factor, orientation);
      const copy = net.shrunkImage();
      const reference = factor === detectionShrink(image.width, image.height) ? detectionImage(image, orientation) : undefined;
      expect(size, what).toEqual({ width: copy.width, height: copy.height });
      return { copy, reference };
    };
    for (const c of CASES) {
      const { image, info } = await decodeSource(codecs, new Uint8Array(readFileSync(DIR + c.file)), LIMIT_DEFAULTS, {});
      const { copy, reference } = same(image, detectionShrink(image.width, image.height), info.orientation, c.file);
      expect([copy.width, copy.height], c.file).toEqual([reference!.width, reference!.height]);
      expect(Buffer.from(copy.data).equals(Buffer.from(reference!.data)), c.file).toBe(true);
      const shape = paddedNetSize(copy.width, copy.height);
      expect(net.runShrunk({ ...shape, meanRgb: MEAN_RGB }), c.file).toEqual(net.run({ rgb: rgbOf(reference!), width: copy.width, height: copy.height, ...shape, meanRgb: MEAN_RGB }));
    }
    // Odd sizes (the shrink's region trimmed on both sides), every orientation, transparency
    // (kept as it is when nothing is shrunk, opaque otherwise) and values that round half to even.
    for (const [width, height] of [
      [333, 203],
      [1001, 641],
      [2891, 77],
    ] as const) {
      const data = new Uint8ClampedArray(width * height * 4);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 9) * 31) % 256;
      const image = toImageData(data, width, height);
      for (let orientation = 1; orientation <= 8; orientation++) {
        const { copy, reference } = same(image, detectionShrink(width, height), orientation, `${width}×${height} o${orientation}`);
        expect(Buffer.from(copy.data).equals(Buffer.from(reference!.data)), `${width}×${height} o${orientation}`).toBe(true);
      }
    }
    // Past its bounds it makes no copy: the finder makes it in JavaScript.
    const one = toImageData(new Uint8ClampedArray(4 * 70_000), 70_000, 1);
    expect(net.shrink(one, 219, 1)).toBeNull();
    expect(net.shrink(toImageData(new Uint8ClampedArray(4 * 600 * 600), 600, 600), 256, 1)).toBeNull();
    expect(net.memoryBytes()).toBeLessThan(16 * 1024 * 1024);
  });

  it('holds the same memory from its load on, whatever the order of the inputs the finder gives it', async () => {
    const net = createFaceNet((await codecModules()).faceNet, weights());
    const atLoad = net.memoryBytes();
    for (const [width, height] of [
      [300, 200],
      [960, 320],
      [1920, 640],
      [640, 1920],
    ] as const) {
      const image = toImageData(new Uint8ClampedArray(width * height * 4).fill(128), width, height);
      const size = net.shrink(image, detectionShrink(width, height), 1)!;
      net.runShrunk({ ...paddedNetSize(size.width, size.height), meanRgb: MEAN_RGB });
      expect(net.memoryBytes(), `${width}×${height}`).toBe(atLoad);
    }
    expect(atLoad).toBeLessThan(16 * 1024 * 1024);
  });
});
