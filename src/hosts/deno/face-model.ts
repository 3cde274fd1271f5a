/**
 * The Deno host's face detector: the same as the Node host's (render/focal/face-detector.ts),
 * face-api's tiny face detector weights on the pinned face kernel (CodecModules.faceNet). The
 * weights are files next to the bundle (dist/deno/face/, copied from @vladmandic/face-api by
 * scripts/build-deno.mjs), read on the first face/auto crop of an isolate (a render worker, or
 * the main thread when it renders). Nothing is fetched at run time.
 */
import { loadFaceDetector } from '../../render/focal/face-detector.js';
import { type FocalFinder, lazyFocalFinder } from '../../render/focal/find-focal.js';

export function lazyDenoFocalFinder(module: WebAssembly.Module, dir: URL, read: (url: URL) => Promise<Uint8Array>, onError: (err: unknown) => void): FocalFinder {
  return lazyFocalFinder(() => loadFaceDetector(module, (file) => read(new URL(file, dir))), onError);
}
