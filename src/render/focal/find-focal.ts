/**
 * An original's focal record from its decoded pixels: shrink to ≤ 320 px, turn upright (EXIF),
 * look for faces, and only when there is none, for salient detail. Run once per original; the
 * record is stored (core/focal-point.ts), so later renders and cache hits pay nothing.
 */
import type { FocalRecord } from '../../core/focal-point.js';
import { applyOrientation } from '../orientation.js';
import { cropAndShrink } from '../pre-shrink.js';
import type { Rect } from '../geometry.js';
import { type DetectedFace, type FaceDetector, INPUT_SIZE } from './face-detector.js';
import { dedupe, facesCentre, MIN_SHARE, roundPoint } from './focal-math.js';
import { salientPoint } from './saliency.js';

/** The detector's input side (tiles are at most this square); larger costs time and found no more faces on the labelled set. */
export const DETECT_SIZE = 320;
/** The long side is shrunk until it is at most this many tiles; beyond, a photo is shrunk more. */
const MAX_TILES = 3;
/** Up to this aspect ratio (4:3, 3:2) one pass over the whole image sees faces as well as tiles would. */
const ONE_PASS_ASPECT = 1.5;
/** Faces with a smaller side (network pixels) are missed often enough by the tiny detector (22–26 px faces were, on the labelled set). */
const MIN_FACE_PX = 32;

export type FocalFinder = (image: ImageData, orientation: number) => Promise<FocalRecord>;

/**
 * The upright copy detection looks at: the short side at most DETECT_SIZE px, the long side at
 * most MAX_TILES × that. Shrinking the long side to DETECT_SIZE instead lost the faces of
 * 2:1 photos (a 100 px face became 25 px, below what the detector sees).
 */
export function detectionImage(image: ImageData, orientation: number): ImageData {
  const short = Math.min(image.width, image.height);
  const long = Math.max(image.width, image.height);
  const k = Math.max(1, Math.ceil(short / DETECT_SIZE), Math.ceil(long / (DETECT_SIZE * MAX_TILES)));
  const full = { x: 0, y: 0, width: image.width, height: image.height };
  return applyOrientation(cropAndShrink(image, full, k, false), orientation);
}

/** Square tiles along the long side (as few as cover it, evenly overlapped), each one detection. */
export function tiles(size: { width: number; height: number }): Rect[] {
  const s = Math.min(size.width, size.height);
  const long = Math.max(size.width, size.height);
  const n = Math.ceil(long / s);
  const out: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const at = n === 1 ? 0 : Math.round((i * (long - s)) / (n - 1));
    out.push(size.width >= size.height ? { x: at, y: 0, width: s, height: s } : { x: 0, y: at, width: s, height: s });
  }
  return out;
}

function rgbOf(image: ImageData, r: Rect): Uint8Array {
  const rgb = new Uint8Array(r.width * r.height * 3);
  const d = image.data;
  let o = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x, i = (y * image.width + x) * 4; x < r.x + r.width; x++, i += 4) {
      rgb[o++] = d[i]!;
      rgb[o++] = d[i + 1]!;
      rgb[o++] = d[i + 2]!;
    }
  }
  return rgb;
}

/**
 * Faces in the image: one pass over all of it (large faces, also those a tile edge would cut),
 * then, for a long image (2:1 and the like) unless that pass found a large face, one per
 * square tile (faces too small for the whole-image pass). A face seen twice counts once.
 */
export async function detectFaces(faces: FaceDetector, image: ImageData): Promise<DetectedFace[]> {
  const all = { x: 0, y: 0, width: image.width, height: image.height };
  const long = Math.max(image.width, image.height);
  const found: DetectedFace[] = [...(await faces.detect(rgbOf(image, all), all.width, all.height))];
  if (long / Math.min(image.width, image.height) <= ONE_PASS_ASPECT) return found;
  // A face the whole-image pass missed is smaller than MIN_FACE_PX at the network's scale; next
  // to a face this large it would weigh under MIN_SHARE and be left out anyway: no tiles needed.
  const net = INPUT_SIZE / long;
  if (found.some((f) => Math.min(f.width, f.height) * net >= MIN_FACE_PX / Math.sqrt(MIN_SHARE))) return found;
  for (const t of tiles(image)) {
    for (const f of await faces.detect(rgbOf(image, t), t.width, t.height)) found.push({ ...f, x: f.x + t.x, y: f.y + t.y });
  }
  return dedupe(found);
}

export function createFocalFinder(faces: FaceDetector | undefined): FocalFinder {
  return async (image, orientation) => {
    const small = detectionImage(image, orientation);
    const face = faces ? facesCentre(await detectFaces(faces, small), small) : null;
    const saliency = face ? null : salientPoint(small);
    return { face: face && roundPoint(face), saliency: saliency && roundPoint(saliency) };
  };
}
