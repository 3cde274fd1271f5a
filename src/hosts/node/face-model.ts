/**
 * The Node host's face detector: @vladmandic/face-api's tiny face detector, its weights read
 * from the installed package and TensorFlow.js's WASM backend from its package's .wasm files
 * (no network). Loaded on the first face/auto crop of a thread, so threads that never make one
 * never load TensorFlow.js.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createFaceDetector, type FaceApi, type FaceDetector } from '../../render/focal/face-detector.js';
import { createFocalFinder, type FocalFinder } from '../../render/focal/find-focal.js';

const require = createRequire(import.meta.url);

export async function loadFaceDetector(backend: 'wasm' | 'cpu' = 'wasm'): Promise<FaceDetector> {
  // The build for Node with the WASM backend: plain @tensorflow/tfjs, no native tfjs-node.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const modelDir = `${dirname(require.resolve('@vladmandic/face-api/package.json'))}/model/`;
  const wasmDir = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
  const [weights, manifest] = await Promise.all([readFile(`${modelDir}tiny_face_detector_model.bin`), readFile(`${modelDir}tiny_face_detector_model-weights_manifest.json`, 'utf8')]);
  return createFaceDetector({ faceapi, weights, manifest: JSON.parse(manifest) as unknown[], backend, wasmDir });
}

/** A focal finder that loads the detector once, on first use; if it cannot load, saliency alone. */
export function lazyNodeFocalFinder(onError: (err: unknown) => void = () => {}): FocalFinder {
  let finder: Promise<FocalFinder> | undefined;
  return async (image, orientation) => {
    finder ??= loadFaceDetector().then(
      (d) => createFocalFinder(d),
      (err) => (onError(err), createFocalFinder(undefined)),
    );
    return (await finder)(image, orientation);
  };
}
