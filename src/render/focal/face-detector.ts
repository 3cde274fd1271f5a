/**
 * Faces in a small RGB image, with face-api's tiny face detector (a 190 KB model shipped inside
 * the @vladmandic/face-api package) on TensorFlow.js. The host loads the weights from disk and
 * picks the backend (WASM where it can, plain-JS CPU otherwise): nothing is fetched at run time.
 *
 * The network is fully convolutional, so it runs here on the whole image at its own aspect
 * ratio, in one pass: face-api's own `detectAllFaces` pads every input to a square first
 * (half of a 2:1 photo's pass was padding, and its faces came out half as large, hence the
 * tiles this replaced). The boxes are decoded from the network's output grid below, as
 * face-api's `extractBoxes` does for a square one. docs/face-crops.md has the figures.
 */
import type { Box } from './focal-math.js';

/** What face-api needs from the host: its module (loaded however the host loads packages) and the weights. */
export interface FaceModel {
  /** The `@vladmandic/face-api` module. */
  faceapi: FaceApi;
  /** tiny_face_detector_model.bin and the `weights` of its manifest's first group. */
  weights: Uint8Array;
  manifest: unknown[];
  /** `wasm` (tfjs-backend-wasm, its .wasm files under `wasmDir`) or `cpu` (plain JavaScript). */
  backend: 'wasm' | 'cpu';
  wasmDir?: string;
}

/** A TensorFlow.js tensor, as far as it is used here. */
export interface Tensor {
  shape: number[];
  dispose(): void;
  data(): Promise<ArrayLike<number>>;
  expandDims(axis: number): Tensor;
}

/** The few face-api calls used, typed here (its own types pull in DOM types the hosts lack). */
export interface FaceApi {
  tf: {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    getBackend(): string;
    setWasmPaths?(prefix: string): void;
    tidy<T>(f: () => T): T;
    maxPool(x: Tensor, size: [number, number], strides: [number, number], pad: 'same'): Tensor;
    depthwiseConv2d(x: Tensor, filter: Tensor, strides: [number, number], pad: 'same'): Tensor;
    fused: { conv2d(o: { x: Tensor; filter: Tensor; strides: [number, number]; pad: 'valid'; bias: Tensor; activation?: 'leakyrelu'; leakyreluAlpha?: number }): Tensor };
    tensor3d(values: Float32Array, shape: [number, number, number], dtype: 'float32'): Tensor;
    pad(x: Tensor, paddings: [number, number][], value: number): Tensor;
    image: { resizeBilinear(x: Tensor, size: [number, number]): Tensor };
    io: { decodeWeights(buffer: ArrayBuffer, specs: unknown[]): unknown };
  };
  nets: {
    tinyFaceDetector: {
      loadFromWeightMap(map: unknown): void;
      isLoaded: boolean;
      params: TinyParams;
      config: { anchors: { x: number; y: number }[]; meanRgb: [number, number, number]; iouThreshold: number };
    };
  };
}

/** The tiny face detector's weights, as face-api names them. */
interface TinyParams {
  conv0: { filters: Tensor; bias: Tensor };
  conv1: Separable;
  conv2: Separable;
  conv3: Separable;
  conv4: Separable;
  conv5: Separable;
  conv8: { filters: Tensor; bias: Tensor };
}
interface Separable {
  depthwise_filter: Tensor;
  pointwise_filter: Tensor;
  bias: Tensor;
}

export interface DetectedFace extends Box {
  score: number;
}

export interface FaceDetector {
  /** Faces in `rgb` (width × height × 3 bytes), in its pixels. */
  detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]>;
  backend: string;
}

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
const STRIDE = 32;

/** face-api's leaky ReLU (`relu(x − 0.1x) + 0.1x`) is this one. */
const LEAKY_ALPHA = 0.1;

/**
 * The network on a [1, h, w, 3] batch (mean-subtracted, /255): a [1, ⌈h/32⌉, ⌈w/32⌉, anchors × 5]
 * grid. The same layers as face-api's `runMobilenet`, with bias and activation fused into
 * each convolution: face-api's separate bias adds, padding and four-op leaky ReLU took more
 * time than the convolutions themselves on the WASM backend.
 */
function runNet(tf: FaceApi['tf'], p: TinyParams, x: Tensor): Tensor {
  const pool = (t: Tensor) => tf.maxPool(t, [2, 2], [2, 2], 'same');
  const separable = (t: Tensor, s: Separable) =>
    tf.fused.conv2d({
      x: tf.depthwiseConv2d(t, s.depthwise_filter, [1, 1], 'same'),
      filter: s.pointwise_filter,
      strides: [1, 1],
      pad: 'valid',
      bias: s.bias,
      activation: 'leakyrelu',
      leakyreluAlpha: LEAKY_ALPHA,
    });
  let t = tf.fused.conv2d({ x, filter: p.conv0.filters, strides: [1, 1], pad: 'valid', bias: p.conv0.bias, activation: 'leakyrelu', leakyreluAlpha: LEAKY_ALPHA });
  t = separable(pool(t), p.conv1);
  t = separable(pool(t), p.conv2);
  t = separable(pool(t), p.conv3);
  t = separable(pool(t), p.conv4);
  t = separable(pool(t), p.conv5);
  t = tf.maxPool(t, [2, 2], [1, 1], 'same');
  return tf.fused.conv2d({ x: t, filter: p.conv8.filters, strides: [1, 1], pad: 'valid', bias: p.conv8.bias });
}

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

export async function createFaceDetector(model: FaceModel): Promise<FaceDetector> {
  const { faceapi } = model;
  const tf = faceapi.tf;
  if (model.backend === 'wasm' && model.wasmDir && tf.setWasmPaths) tf.setWasmPaths(model.wasmDir);
  if (!(await tf.setBackend(model.backend))) throw new Error(`TensorFlow.js backend '${model.backend}' did not start`);
  await tf.ready();
  const net = faceapi.nets.tinyFaceDetector;
  if (!net.isLoaded) {
    const group = model.manifest[0] as { weights: unknown[] };
    const w = model.weights;
    const map = tf.io.decodeWeights(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer, group.weights);
    net.loadFromWeightMap(map);
  }
  const { anchors, meanRgb, iouThreshold } = net.config;
  return {
    backend: tf.getBackend(),
    async detect(rgb, width, height) {
      // Normalized here (what face-api does with tensor ops): (value − mean) / 255.
      const input = new Float32Array(width * height * 3);
      for (let i = 0; i < input.length; i += 3) {
        input[i] = (rgb[i]! - meanRgb[0]) / 255;
        input[i + 1] = (rgb[i + 1]! - meanRgb[1]) / 255;
        input[i + 2] = (rgb[i + 2]! - meanRgb[2]) / 255;
      }
      const size = netSize(width, height);
      const padded = { width: Math.ceil(size.width / STRIDE) * STRIDE, height: Math.ceil(size.height / STRIDE) * STRIDE };
      const out = tf.tidy(() => {
        let x = tf.tensor3d(input, [height, width, 3], 'float32');
        if (size.width !== width || size.height !== height) x = tf.image.resizeBilinear(x, [size.height, size.width]);
        // Padded right and bottom with the mean colour (0 once normalized).
        x = tf.pad(
          x,
          [
            [0, padded.height - size.height],
            [0, padded.width - size.width],
            [0, 0],
          ],
          0,
        );
        return runNet(tf, net.params, x.expandDims(0));
      });
      let grid: ArrayLike<number>;
      try {
        grid = await out.data();
      } finally {
        out.dispose();
      }
      const [, rows = 0, cols = 0] = out.shape;
      const faces = decodeGrid(grid, rows, cols, anchors, padded.width / cols, iouThreshold);
      // Back to the caller's pixels, clipped to the image.
      return faces.flatMap((f) => {
        const x0 = Math.max(0, f.x / size.scale);
        const y0 = Math.max(0, f.y / size.scale);
        const x1 = Math.min(width, (f.x + f.width) / size.scale);
        const y1 = Math.min(height, (f.y + f.height) / size.scale);
        return x1 > x0 && y1 > y0 ? [{ x: x0, y: y0, width: x1 - x0, height: y1 - y0, score: f.score }] : [];
      });
    },
  };
}
