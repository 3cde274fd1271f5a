/**
 * Faces in a small RGB image, with face-api's tiny face detector: its weights (a 190 KB file
 * shipped inside the @vladmandic/face-api package, read by the host: nothing is fetched at run
 * time) on our own WebAssembly kernel (face-net.ts, wasm/face_net.wasm), not TensorFlow.js.
 *
 * The network is fully convolutional, so it runs here on the whole image at its own aspect
 * ratio, in one pass: face-api's own `detectAllFaces` pads every input to a square first
 * (half of a 2:1 photo's pass was padding, and its faces came out half as large, hence the
 * tiles this replaced). The boxes are decoded from the network's output grid below, as
 * face-api's `extractBoxes` does for a square one. docs/face-crops.md has the figures.
 */
import { createFaceNet, weightsForKernel } from './face-net.js';
import type { Box } from './focal-math.js';

/** What the detector needs from the host: the compiled kernel (pinned like the codecs) and face-api's weights files. */
export interface FaceModel {
  /** wasm/face_net.wasm, compiled (CodecModules.faceNet). */
  module: WebAssembly.Module;
  /** tiny_face_detector_model.bin. */
  weights: Uint8Array;
  /** tiny_face_detector_model-weights_manifest.json, parsed. */
  manifest: unknown[];
}

export interface DetectedFace extends Box {
  score: number;
}

/** Faces in the detection copy of a decoded image (find-focal.ts), in the copy's pixels. */
export interface FacesInCopy {
  faces: DetectedFace[];
  /** The copy's size. */
  width: number;
  height: number;
  /** The copy itself (for saliency). From the kernel it is kept only when no face was found; otherwise it is the kernel's until its next call. */
  copy(): ImageData;
}

export interface FaceDetector {
  /** Faces in `rgb` (width × height × 3 bytes), in its pixels. */
  detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]>;
  /**
   * Faces in the detection copy of a decoded image: box-shrunk by the integer `factor`, turned
   * upright for the EXIF `orientation` (find-focal.ts `detectionImage`, the same pixels), with
   * the copy made by the detector itself. Null when it cannot make that copy.
   */
  detectInCopy?(image: ImageData, factor: number, orientation: number): Promise<FacesInCopy | null>;
  backend: string;
}

/** face-api's TinyFaceDetector configuration (src/tinyFaceDetector/const.ts in its package): the boxes' anchors in grid cells, the mean colour the network was trained on, the IoU of non-maximum suppression. */
export const ANCHORS: readonly { x: number; y: number }[] = [
  { x: 1.603231, y: 2.094468 },
  { x: 6.041143, y: 7.080126 },
  { x: 2.882459, y: 3.518061 },
  { x: 4.266906, y: 5.178857 },
  { x: 9.041765, y: 10.66308 },
];
export const MEAN_RGB: readonly [number, number, number] = [117.001, 114.697, 97.404];
export const IOU_THRESHOLD = 0.4;

/**
 * The network sees the image with this short side (scaled up or down to it). The smallest
 * labelled faces (15% of the short side) are 38 px there and were all found; at 224 px they
 * were missed. The network's cost grows with its input's area, whatever the aspect ratio.
 */
export const NET_SHORT_SIDE = 256;
/** The long side at most this many short sides (a panorama is scaled further down). */
export const NET_MAX_ASPECT = 3;
/** Below this the tiny detector's hits on the labelled set were mostly texture, not faces. */
export const SCORE_THRESHOLD = 0.5;
/** The network halves its input five times: its input is padded to a multiple of this. */
export const STRIDE = 32;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The network's input size for an image: its short side NET_SHORT_SIDE, its long side at most NET_MAX_ASPECT times that. */
export function netSize(width: number, height: number): { width: number; height: number; scale: number } {
  const scale = Math.min(NET_SHORT_SIDE / Math.min(width, height), (NET_SHORT_SIDE * NET_MAX_ASPECT) / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/** Intersection over union. */
function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

/**
 * Faces from the network's output grid (rows × cols × anchors × [x, y, w, h, score], raw), in
 * the pixels of the padded input (`cell` px per grid cell): YOLOv2 box decoding, then
 * non-maximum suppression at face-api's IoU threshold.
 */
export function decodeGrid(grid: ArrayLike<number>, rows: number, cols: number, anchors: readonly { x: number; y: number }[], cell: number, iouThreshold: number): DetectedFace[] {
  const found: DetectedFace[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      for (let a = 0; a < anchors.length; a++) {
        const o = ((r * cols + c) * anchors.length + a) * 5;
        const score = sigmoid(grid[o + 4]!);
        if (score < SCORE_THRESHOLD) continue;
        const cx = (c + sigmoid(grid[o]!)) * cell;
        const cy = (r + sigmoid(grid[o + 1]!)) * cell;
        const w = Math.exp(grid[o + 2]!) * anchors[a]!.x * cell;
        const h = Math.exp(grid[o + 3]!) * anchors[a]!.y * cell;
        found.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h, score });
      }
    }
  }
  const kept: DetectedFace[] = [];
  for (const f of found.sort((p, q) => q.score - p.score)) if (!kept.some((k) => iou(k, f) > iouThreshold)) kept.push(f);
  return kept;
}

/** The padded size the network runs at for an image: netSize's, rounded up to a multiple of STRIDE. */
export function paddedNetSize(width: number, height: number): { net: { width: number; height: number }; padded: { width: number; height: number }; scale: number } {
  const size = netSize(width, height);
  return { net: { width: size.width, height: size.height }, padded: { width: Math.ceil(size.width / STRIDE) * STRIDE, height: Math.ceil(size.height / STRIDE) * STRIDE }, scale: size.scale };
}

/** The weights' files as face-api's package ships them (its model/ folder). */
export const FACE_MODEL_FILES = { weights: 'tiny_face_detector_model.bin', manifest: 'tiny_face_detector_model-weights_manifest.json' } as const;

/** Reads the weights' two files by name, however the host reads files (`read`), and makes the detector. */
export async function loadFaceDetector(module: WebAssembly.Module, read: (file: string) => Promise<Uint8Array>): Promise<FaceDetector> {
  const [weights, manifest] = await Promise.all([read(FACE_MODEL_FILES.weights), read(FACE_MODEL_FILES.manifest)]);
  return createFaceDetector({ module, weights, manifest: JSON.parse(new TextDecoder().decode(manifest)) as unknown[] });
}

export function createFaceDetector(model: FaceModel): FaceDetector {
  const net = createFaceNet(model.module, weightsForKernel(model.weights, model.manifest));
  return {
    backend: 'face-net',
    async detect(rgb, width, height) {
      const shape = paddedNetSize(width, height);
      return facesIn(net.run({ rgb, width, height, ...shape, meanRgb: MEAN_RGB }), width, height, shape);
    },
    async detectInCopy(image, factor, orientation) {
      const size = net.shrink(image, factor, orientation);
      if (!size) return null;
      const shape = paddedNetSize(size.width, size.height);
      const faces = facesIn(net.runShrunk({ ...shape, meanRgb: MEAN_RGB }), size.width, size.height, shape);
      // Saliency needs the copy when no face was found: taken now, before another detection
      // in this thread can replace it.
      const kept = faces.length === 0 ? net.shrunkImage() : undefined;
      return { faces, ...size, copy: () => kept ?? net.shrunkImage() };
    },
  };
}

/** The faces of the network's output grid for a width × height image it saw at `shape`, in the image's pixels. */
function facesIn(grid: Float32Array, width: number, height: number, shape: ReturnType<typeof paddedNetSize>): DetectedFace[] {
  const { padded, scale } = shape;
  const found = decodeGrid(grid, padded.height / STRIDE, padded.width / STRIDE, ANCHORS, STRIDE, IOU_THRESHOLD);
  return toImagePixels(found, width, height, scale);
}

/** Boxes in the network's pixels back to the caller's (÷ scale), clipped to the image. */
export function toImagePixels(faces: DetectedFace[], width: number, height: number, scale: number): DetectedFace[] {
  return faces.flatMap((f) => {
    const x0 = Math.max(0, f.x / scale);
    const y0 = Math.max(0, f.y / scale);
    const x1 = Math.min(width, (f.x + f.width) / scale);
    const y1 = Math.min(height, (f.y + f.height) / scale);
    return x1 > x0 && y1 > y0 ? [{ x: x0, y: y0, width: x1 - x0, height: y1 - y0, score: f.score }] : [];
  });
}
