/**
 * The Node host's face detector: face-api's tiny face detector weights, read from the installed
 * @vladmandic/face-api package (no network), on the pinned face kernel (CodecModules.faceNet,
 * render/focal/face-net.ts). Loaded on the first face/auto crop of a thread, so threads that
 * never make one never read the weights or instantiate the kernel.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { type FaceDetector, loadFaceDetector as loadWith } from '../../render/focal/face-detector.js';
import { type FocalFinder, lazyFocalFinder } from '../../render/focal/find-focal.js';

const require = createRequire(import.meta.url);

export async function loadFaceDetector(module: WebAssembly.Module): Promise<FaceDetector> {
  const modelDir = `${dirname(require.resolve('@vladmandic/face-api/package.json'))}/model/`;
  return loadWith(module, (file) => readFile(`${modelDir}${file}`));
}

/** A focal finder that loads the detector once, on first use; if it cannot load, saliency alone. */
export function lazyNodeFocalFinder(module: WebAssembly.Module, onError: (err: unknown) => void = () => {}): FocalFinder {
  return lazyFocalFinder(() => loadFaceDetector(module), onError);
}
