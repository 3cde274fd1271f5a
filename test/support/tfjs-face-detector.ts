/**
 * The reference the face kernel (src/render/focal/face-net.ts) is checked and measured against:
 * the same tiny face detector weights on TensorFlow.js (tfjs-backend-wasm, or plain-JS CPU),
 * as the service ran it before the kernel: the layers of face-api's `runMobilenet` with bias and
 * leaky ReLU fused into each convolution, one pass at the image's aspect ratio, the same box
 * decoding (face-detector.ts). TensorFlow.js and face-api's JavaScript are devDependencies
 * for this file only (test/render/face-net.test.ts, scripts/bench/faces.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { decodeGrid, type FaceDetector, paddedNetSize, toImagePixels } from '../../src/render/focal/face-detector.js';

const require = createRequire(import.meta.url);

/** A TensorFlow.js tensor, as far as it is used here. */
interface Tensor {
  shape: number[];
  dispose(): void;
  data(): Promise<ArrayLike<number>>;
  expandDims(axis: number): Tensor;
}

/** The few face-api calls used, typed here (its own types pull in DOM types the hosts lack). */
interface FaceApi {
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

/** face-api's Node build on TensorFlow.js with the WASM backend (its .wasm files from the installed package) or plain-JS CPU. */
export async function loadTfjsFaceDetector(backend: 'wasm' | 'cpu' = 'wasm'): Promise<FaceDetector> {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const modelDir = `${dirname(require.resolve('@vladmandic/face-api/package.json'))}/model/`;
  const wasmDir = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
  const tf = faceapi.tf;
  if (backend === 'wasm' && tf.setWasmPaths) tf.setWasmPaths(wasmDir);
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend '${backend}' did not start`);
  await tf.ready();
  const net = faceapi.nets.tinyFaceDetector;
  if (!net.isLoaded) {
    const [w, manifest] = await Promise.all([readFile(`${modelDir}tiny_face_detector_model.bin`), readFile(`${modelDir}tiny_face_detector_model-weights_manifest.json`, 'utf8')]);
    const group = (JSON.parse(manifest) as { weights: unknown[] }[])[0]!;
    net.loadFromWeightMap(tf.io.decodeWeights(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer, group.weights));
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
      const { net: size, padded, scale } = paddedNetSize(width, height);
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
      return toImagePixels(decodeGrid(grid, rows, cols, anchors, padded.width / cols, iouThreshold), width, height, scale);
    },
  };
}
