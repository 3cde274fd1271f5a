/**
 * The Deno host's face detector: the same tiny face detector as the Node host
 * (render/focal/face-detector.ts). face-api and TensorFlow.js are imported on the first
 * face/auto crop of an isolate (a render worker, or the main thread when it renders), so the
 * bundle keeps them in a chunk of their own (scripts/build-deno.mjs splits) and isolates that
 * never make such a crop never evaluate them. The weights and TensorFlow.js's WASM binaries are
 * files next to the bundle (dist/deno/face/). Nothing is fetched at run time.
 */
import { createFaceDetector, type FaceApi } from '../../render/focal/face-detector.js';
import { createFocalFinder, type FocalFinder } from '../../render/focal/find-focal.js';

export function lazyDenoFocalFinder(dir: URL, read: (url: URL) => Promise<Uint8Array>, onError: (err: unknown) => void): FocalFinder {
  let finder: Promise<FocalFinder> | undefined;
  const load = async () => {
    const [faceapi, weights, manifest] = await Promise.all([
      import('@vladmandic/face-api/dist/face-api.esm-nobundle.js'),
      read(new URL('tiny_face_detector_model.bin', dir)),
      read(new URL('tiny_face_detector_model-weights_manifest.json', dir)),
    ]);
    const detector = await createFaceDetector({
      faceapi: faceapi as unknown as FaceApi,
      weights,
      manifest: JSON.parse(new TextDecoder().decode(manifest)) as unknown[],
      backend: 'wasm',
      wasmDir: dir.pathname,
    });
    return createFocalFinder(detector);
  };
  return async (image, orientation) => {
    finder ??= load().catch((err) => (onError(err), createFocalFinder(undefined)));
    return (await finder)(image, orientation);
  };
}
