/**
 * An original's focal record from its decoded pixels: shrink to ≤ 320 px, turn upright (EXIF),
 * look for faces, and only when there is none, for salient detail. Run once per original; the
 * record is stored (core/focal-point.ts), so later renders and cache hits pay nothing.
 */
import type { FocalRecord } from '../../core/focal-point.js';
import { applyOrientation } from '../orientation.js';
import { cropAndShrink } from '../pre-shrink.js';
import type { DetectedFace, FaceDetector } from './face-detector.js';
import { facesCentre, roundPoint } from './focal-math.js';
import { salientPoint } from './saliency.js';

/** The detection copy's short side is box-shrunk to at most this (the detector scales it to its own size). */
export const DETECT_SIZE = 320;
/** The long side is shrunk to at most this × DETECT_SIZE (a panorama's short side ends up shorter). */
const MAX_ASPECT = 3;

export type FocalFinder = (image: ImageData, orientation: number) => Promise<FocalRecord>;

/**
 * The upright copy detection and saliency look at: the short side at most DETECT_SIZE px, the
 * long side at most MAX_ASPECT × that. Shrinking the long side to DETECT_SIZE instead lost the
 * faces of 2:1 photos (a 100 px face became 25 px, below what the detector sees).
 */
export function detectionImage(image: ImageData, orientation: number): ImageData {
  const short = Math.min(image.width, image.height);
  const long = Math.max(image.width, image.height);
  const k = Math.max(1, Math.ceil(short / DETECT_SIZE), Math.ceil(long / (DETECT_SIZE * MAX_ASPECT)));
  const full = { x: 0, y: 0, width: image.width, height: image.height };
  return applyOrientation(cropAndShrink(image, full, k, false), orientation);
}

function rgbOf(image: ImageData): Uint8Array {
  const rgb = new Uint8Array(image.width * image.height * 3);
  const d = image.data;
  for (let i = 0, o = 0; i < d.length; i += 4) {
    rgb[o++] = d[i]!;
    rgb[o++] = d[i + 1]!;
    rgb[o++] = d[i + 2]!;
  }
  return rgb;
}

/** Faces in the image: one pass of the detector over all of it (face-detector.ts). */
export async function detectFaces(faces: FaceDetector, image: ImageData): Promise<DetectedFace[]> {
  return faces.detect(rgbOf(image), image.width, image.height);
}

export function createFocalFinder(faces: FaceDetector | undefined): FocalFinder {
  return async (image, orientation) => {
    const small = detectionImage(image, orientation);
    const face = faces ? facesCentre(await detectFaces(faces, small), small) : null;
    const saliency = face ? null : salientPoint(small);
    return { face: face && roundPoint(face), saliency: saliency && roundPoint(saliency) };
  };
}

/**
 * A focal finder that loads the face detector once, on its first use (so a render thread that
 * never makes a face/auto crop never loads it); if it cannot load, saliency alone.
 */
export function lazyFocalFinder(load: () => Promise<FaceDetector>, onError: (err: unknown) => void = () => {}): FocalFinder {
  let finder: Promise<FocalFinder> | undefined;
  return async (image, orientation) => {
    finder ??= load().then(
      (d) => createFocalFinder(d),
      (err) => (onError(err), createFocalFinder(undefined)),
    );
    return (await finder)(image, orientation);
  };
}
