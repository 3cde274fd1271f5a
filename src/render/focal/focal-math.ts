/** Small pure helpers shared by the focal-point finders. */
import type { FocalPoint } from '../../core/focal-point.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Faces weighing less than this share of the heaviest are background people: left out. */
export const MIN_SHARE = 0.2;

/**
 * One point for several faces: the centre of the union of their boxes, so a crop that can
 * hold them all does. Each face weighs area × confidence, and faces far lighter than the
 * heaviest (small, doubtful, in the background) are left out of the union. As fractions of the image.
 */
export function facesCentre(faces: readonly (Box & { score: number })[], size: { width: number; height: number }): FocalPoint | null {
  const weight = (f: Box & { score: number }) => f.width * f.height * f.score;
  const max = Math.max(0, ...faces.map(weight));
  if (!(max > 0)) return null;
  const kept = faces.filter((f) => weight(f) >= MIN_SHARE * max);
  const x0 = Math.min(...kept.map((f) => f.x));
  const y0 = Math.min(...kept.map((f) => f.y));
  const x1 = Math.max(...kept.map((f) => f.x + f.width));
  const y1 = Math.max(...kept.map((f) => f.y + f.height));
  return { x: clamp01((x0 + x1) / 2 / size.width), y: clamp01((y0 + y1) / 2 / size.height) };
}

export const clamp01 = (n: number): number => Math.min(1, Math.max(0, n));

/** Rounds a point to 1/1000: the stored record is small and detection noise below that is meaningless. */
export const roundPoint = (p: FocalPoint): FocalPoint => ({ x: Math.round(p.x * 1000) / 1000, y: Math.round(p.y * 1000) / 1000 });
