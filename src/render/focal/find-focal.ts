/**
 * An original's focal record from its decoded pixels: shrink to ≤ 320 px, turn upright (EXIF),
 * look for faces, and only when there is none, for salient detail. Run once per original; the
 * record is stored (core/focal-point.ts), so later renders and cache hits pay nothing.
 */
import type { FocalRecord } from '../../core/focal-point.js';
import { applyOrientation } from '../orientation.js';
import { cropAndShrink } from '../pre-shrink.js';
import type { DetectedFace, FaceDetector, FacesInCopy } from './face-detector.js';
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
  const full = { x: 0, y: 0, width: image.width, height: image.height };
  return applyOrientation(cropAndShrink(image, full, detectionShrink(image.width, image.height), false), orientation);
}

/** The integer factor detectionImage box-shrinks a width × height image by. */
export function detectionShrink(width: number, height: number): number {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  return Math.max(1, Math.ceil(short / DETECT_SIZE), Math.ceil(long / (DETECT_SIZE * MAX_ASPECT)));
}

/** The RGB bytes of an RGBA image (what the detector's `detect` takes). */
export function rgbOf(image: ImageData): Uint8Array {
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

/**
 * The faces in the detection copy, and the copy. The face kernel makes the copy itself
 * (face-detector.ts `detectInCopy`: the same pixels, without a JavaScript pass over the
 * original); otherwise, or when it cannot, it is made here.
 */
async function lookAt(faces: FaceDetector | undefined, image: ImageData, orientation: number): Promise<FacesInCopy> {
  const found = await faces?.detectInCopy?.(image, detectionShrink(image.width, image.height), orientation);
  if (found) return found;
  const small = detectionImage(image, orientation);
  return { faces: faces ? await detectFaces(faces, small) : [], width: small.width, height: small.height, copy: () => small };
}

export function createFocalFinder(faces: FaceDetector | undefined): FocalFinder {
  return async (image, orientation) => {
    const seen = await lookAt(faces, image, orientation);
    const face = facesCentre(seen.faces, seen);
    const saliency = face ? null : salientPoint(seen.copy());
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
