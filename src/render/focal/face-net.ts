/**
 * The tiny face detector's network on our own WebAssembly kernel (wasm/face_net.wasm, built from
 * wasm/face-net/ and pinned in wasm/manifest.json like every codec): face-api's weights in,
 * the network's raw output grid out. face-detector.ts decodes the boxes.
 *
 * The weights are face-api's files as shipped in the @vladmandic/face-api package
 * (tiny_face_detector_model.bin and its manifest, uint8-quantized): dequantized here once, as
 * TensorFlow.js's `io.decodeWeights` does, and handed to the instance, which keeps them as f32.
 */
import { toImageData } from '../image-data.js';

/** A tensor of face-api's weights manifest. */
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** The order the kernel reads them in (wasm/face-net/src/lib.rs `Net::from_flat`), with their shapes. */
const CHANNELS = [3, 16, 32, 64, 128, 256, 512];
const LAYOUT: [string, number[]][] = [
  ['conv0/filters', [3, 3, 3, 16]],
  ['conv0/bias', [16]],
  ...[1, 2, 3, 4, 5].flatMap((l): [string, number[]][] => [
    [`conv${l}/depthwise_filter`, [3, 3, CHANNELS[l]!, 1]],
    [`conv${l}/pointwise_filter`, [1, 1, CHANNELS[l]!, CHANNELS[l + 1]!]],
    [`conv${l}/bias`, [CHANNELS[l + 1]!]],
  ]),
  ['conv8/filters', [1, 1, 512, 25]],
  ['conv8/bias', [25]],
];

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * face-api's weights file as f32, in the kernel's order. The file holds the tensors of the
 * manifest's first group one after another; uint8/uint16-quantized ones are `q × scale + min`.
 */
export function weightsForKernel(bin: Uint8Array, manifest: unknown[]): Float32Array {
  const specs = (manifest[0] as { weights?: WeightSpec[] } | undefined)?.weights;
  if (!Array.isArray(specs)) throw new Error('face model manifest: no weights group');
  const tensors = new Map<string, Float32Array>();
  let at = 0;
  for (const spec of specs) {
    const n = count(spec.shape);
    const q = spec.quantization;
    const bytes = q ? (q.dtype === 'uint8' ? 1 : q.dtype === 'uint16' ? 2 : 0) : spec.dtype === 'float32' ? 4 : 0;
    if (bytes === 0) throw new Error(`face model manifest: ${spec.name} has an unsupported type`);
    if (at + n * bytes > bin.length) throw new Error(`face model: the weights file ends inside ${spec.name}`);
    const view = new DataView(bin.buffer, bin.byteOffset + at, n * bytes);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (!q) out[i] = view.getFloat32(i * 4, true);
      else out[i] = (bytes === 1 ? view.getUint8(i) : view.getUint16(i * 2, true)) * q.scale! + q.min!;
    }
    tensors.set(spec.name, out);
    at += n * bytes;
  }
  const flat = new Float32Array(LAYOUT.reduce((a, [, shape]) => a + count(shape), 0));
  let o = 0;
  for (const [name, shape] of LAYOUT) {
    const t = tensors.get(name);
    const spec = specs.find((s) => s.name === name);
    if (!t || spec?.shape.join() !== shape.join()) throw new Error(`face model: ${name} is missing or not ${shape.join('×')}`);
    flat.set(t, o);
    o += t.length;
  }
  return flat;
}

interface FaceNetExports {
  memory: WebAssembly.Memory;
  weights_alloc(count: number): number;
  weights_load(): number;
  input_alloc(len: number): number;
  detect(source: number, width: number, height: number, netWidth: number, netHeight: number, paddedWidth: number, paddedHeight: number, meanR: number, meanG: number, meanB: number): number;
  output_ptr(): number;
  output_len(): number;
  shrink_begin(width: number, height: number, factor: number, orientation: number): number;
  strip_alloc(len: number): number;
  shrink_rows(count: number): number;
  shrink_end(): number;
  shrunk_ptr(): number;
  shrunk_width(): number;
  shrunk_height(): number;
}

/** The decoded image goes into the kernel this many bytes of rows at a time (at least one row), so its memory holds a strip, never the image. */
const STRIP_BYTES = 256 * 1024;

export interface NetInput {
  /** The image, width × height × 3 bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** The size the network sees it at (scaled bilinearly), then padded right and bottom with the mean colour to `padded` (multiples of 32). */
  net: { width: number; height: number };
  padded: { width: number; height: number };
  meanRgb: readonly [number, number, number];
}

/** How the network sees an image: scaled bilinearly to `net`, then padded right and bottom with the mean colour to `padded` (multiples of 32). */
export type NetShape = Pick<NetInput, 'net' | 'padded' | 'meanRgb'>;

export interface FaceNet {
  /** The output grid: (padded height / 32) × (padded width / 32) × 5 anchors × [x, y, w, h, score], raw. */
  run(input: NetInput): Float32Array;
  /**
   * Makes the detection copy of a decoded RGBA image inside the kernel, without a JavaScript
   * pass over its pixels: box-shrunk by the integer `factor` (the pixels of pre-shrink.ts
   * `cropAndShrink` without alpha weighting), then turned upright for the EXIF `orientation`
   * (orientation.ts). Its size, or null when the kernel refuses the sizes (the caller then makes
   * the copy itself). The copy is kept until the next `shrink`.
   */
  shrink(image: ImageData, factor: number, orientation: number): { width: number; height: number } | null;
  /** `run` on the copy `shrink` made. */
  runShrunk(shape: NetShape): Float32Array;
  /** The copy `shrink` made, as a new ImageData. */
  shrunkImage(): ImageData;
  /** The instance's WebAssembly memory (weights, activations for the largest input so far). */
  memoryBytes(): number;
}

/** One instance of the kernel with the weights loaded; one run at a time (a render thread is single-threaded). */
export function createFaceNet(module: WebAssembly.Module, weights: Float32Array): FaceNet {
  const ex = new WebAssembly.Instance(module, {}).exports as unknown as FaceNetExports;
  // Pointers first, then `memory.buffer`: an allocation may grow (and so replace) the buffer.
  const wp = ex.weights_alloc(weights.length);
  new Float32Array(ex.memory.buffer, wp, weights.length).set(weights);
  if (ex.weights_load() !== 0) throw new Error(`face-net: ${weights.length} weights is not the tiny face detector's count`);
  // The output grid of a detect call, or why there is none.
  const grid = (status: number, input: string, net: NetInput['net'], padded: NetInput['padded']) => {
    if (status !== 0) throw new Error(status === 1 ? 'face-net: no weights' : `face-net: sizes out of bounds (${input} → ${net.width}×${net.height}, padded ${padded.width}×${padded.height})`);
    return new Float32Array(ex.memory.buffer, ex.output_ptr(), ex.output_len()).slice();
  };
  return {
    run({ rgb, width, height, net, padded, meanRgb }) {
      const at = ex.input_alloc(rgb.length);
      new Uint8Array(ex.memory.buffer, at, rgb.length).set(rgb);
      const status = ex.detect(0, width, height, net.width, net.height, padded.width, padded.height, meanRgb[0], meanRgb[1], meanRgb[2]);
      return grid(status, `${width}×${height}`, net, padded);
    },
    shrink(image, factor, orientation) {
      const upright = orientation >= 2 && orientation <= 8 ? orientation : 1;
      if (ex.shrink_begin(image.width, image.height, factor, upright) !== 0) return null;
      const rowBytes = image.width * 4;
      const rows = Math.max(1, Math.floor(STRIP_BYTES / rowBytes));
      const at = ex.strip_alloc(rows * rowBytes);
      const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, image.height * rowBytes);
      for (let y = 0; y < image.height; y += rows) {
        const n = Math.min(rows, image.height - y);
        new Uint8Array(ex.memory.buffer, at, n * rowBytes).set(pixels.subarray(y * rowBytes, (y + n) * rowBytes));
        if (ex.shrink_rows(n) !== 0) throw new Error('face-net: the strip refused its rows');
      }
      if (ex.shrink_end() !== 0) throw new Error('face-net: the shrink missed rows');
      return { width: ex.shrunk_width(), height: ex.shrunk_height() };
    },
    runShrunk({ net, padded, meanRgb }) {
      const [width, height] = [ex.shrunk_width(), ex.shrunk_height()];
      const status = ex.detect(1, width, height, net.width, net.height, padded.width, padded.height, meanRgb[0], meanRgb[1], meanRgb[2]);
      return grid(status, `the shrunk copy ${width}×${height}`, net, padded);
    },
    shrunkImage() {
      const [width, height] = [ex.shrunk_width(), ex.shrunk_height()];
      const data = new Uint8ClampedArray(new Uint8Array(ex.memory.buffer, ex.shrunk_ptr(), width * height * 4));
      return toImageData(data, width, height);
    },
    memoryBytes: () => ex.memory.buffer.byteLength,
  };
}
