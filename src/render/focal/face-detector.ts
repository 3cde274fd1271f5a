/**
 * Faces in a small RGB image, with face-api's tiny face detector (a 190 KB model shipped inside
 * the @vladmandic/face-api package) on TensorFlow.js. The host loads the weights from disk and
 * picks the backend (WASM where it can, plain-JS CPU otherwise): nothing is fetched at run time.
 * docs/face-crops.md compares it with face-api's SSD MobileNet detector.
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

/** The few face-api calls used, typed here (its own types pull in DOM types the hosts lack). */
export interface FaceApi {
  tf: {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    getBackend(): string;
    setWasmPaths?(prefix: string): void;
    tensor3d(values: Int32Array, shape: [number, number, number], dtype: 'int32'): { dispose(): void };
    io: { decodeWeights(buffer: ArrayBuffer, specs: unknown[]): unknown };
  };
  nets: { tinyFaceDetector: { loadFromWeightMap(map: unknown): void; isLoaded: boolean } };
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  detectAllFaces(input: unknown, options: unknown): Promise<{ score: number; box: Box }[]>;
}

export interface DetectedFace extends Box {
  score: number;
}

export interface FaceDetector {
  /** Faces in `rgb` (width × height × 3 bytes), in its pixels. */
  detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]>;
  backend: string;
}

/** The network's input side: the image (≤ 320 px) is padded to this square. 320 found the profile face 224 missed. */
export const INPUT_SIZE = 320;
/** Below this the tiny detector's hits on the labelled set were mostly texture, not faces. */
export const SCORE_THRESHOLD = 0.5;

export async function createFaceDetector(model: FaceModel): Promise<FaceDetector> {
  const { faceapi } = model;
  const tf = faceapi.tf;
  if (model.backend === 'wasm' && model.wasmDir && tf.setWasmPaths) tf.setWasmPaths(model.wasmDir);
  if (!(await tf.setBackend(model.backend))) throw new Error(`TensorFlow.js backend '${model.backend}' did not start`);
  await tf.ready();
  if (!faceapi.nets.tinyFaceDetector.isLoaded) {
    const group = model.manifest[0] as { weights: unknown[] };
    const w = model.weights;
    const map = tf.io.decodeWeights(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer, group.weights);
    faceapi.nets.tinyFaceDetector.loadFromWeightMap(map);
  }
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: SCORE_THRESHOLD });
  return {
    backend: tf.getBackend(),
    async detect(rgb, width, height) {
      const input = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
      try {
        const found = await faceapi.detectAllFaces(input, options);
        return found.map((d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }));
      } finally {
        input.dispose();
      }
    },
  };
}
