/**
 * Fit math, pure: which part of the source is used, what size it is scaled to, and where it
 * sits on the output canvas. Sizes are in the displayed (EXIF-oriented) orientation.
 *
 * - cover:   scale to fill the box, crop the overflow around the focal point (the centre when
 *            there is none), kept inside the source; output is the box.
 * - contain: scale to fit inside the box, letterbox the rest; output is the box.
 * - inside:  scale to fit inside the box, never enlarge; output is the scaled size.
 * - A 0 width or height follows the source aspect ratio and never enlarges, whatever the fit.
 */
import type { FocalPoint } from '../core/focal-point.js';
import type { Fit } from '../core/variant.js';

export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Size {
  x: number;
  y: number;
}

export interface GeometryPlan {
  /** Region of the source used; the whole source unless cover crops it. */
  crop: Rect;
  /** Size the cropped region is resized to. */
  scaled: Size;
  /** Output size; `scaled` is drawn at `offset` (non-zero only for contain's letterbox). */
  canvas: Size;
  offset: { x: number; y: number };
}

export interface Box extends Size {
  fit: Fit;
}

/** Rounds to a pixel count, never below 1 (a 1×10000 strip still renders). */
const px = (n: number): number => Math.max(1, Math.round(n));

export function centredRect(outer: Size, width: number, height: number): Rect {
  return { x: Math.floor((outer.width - width) / 2), y: Math.floor((outer.height - height) / 2), width, height };
}

/**
 * A width × height rect inside `outer` centred on `focal` (fractions of `outer`), shifted as
 * little as needed to stay inside; the centred rect without a focal point.
 */
export function focusedRect(outer: Size, width: number, height: number, focal?: FocalPoint): Rect {
  if (!focal) return centredRect(outer, width, height);
  const place = (side: number, len: number, f: number) => Math.min(side - len, Math.max(0, Math.round(f * side - len / 2)));
  return { x: place(outer.width, width, focal.x), y: place(outer.height, height, focal.y), width, height };
}

function scaledBy(source: Size, scale: number): Size {
  return { width: px(source.width * scale), height: px(source.height * scale) };
}

export function planGeometry(source: Size, box: Box, focal?: FocalPoint): GeometryPlan {
  const full = { x: 0, y: 0, width: source.width, height: source.height };
  const plain = (scaled: Size): GeometryPlan => ({ crop: full, scaled, canvas: scaled, offset: { x: 0, y: 0 } });

  if (box.width <= 0 && box.height <= 0) return plain({ width: source.width, height: source.height });
  if (box.width <= 0 || box.height <= 0) {
    const scale = box.width > 0 ? box.width / source.width : box.height / source.height;
    return plain(scaledBy(source, Math.min(1, scale)));
  }

  const sx = box.width / source.width;
  const sy = box.height / source.height;
  if (box.fit === 'cover') {
    const scale = Math.max(sx, sy);
    const crop = focusedRect(source, Math.min(source.width, px(box.width / scale)), Math.min(source.height, px(box.height / scale)), focal);
    const canvas = { width: box.width, height: box.height };
    return { crop, scaled: canvas, canvas, offset: { x: 0, y: 0 } };
  }
  if (box.fit === 'contain') {
    const s = scaledBy(source, Math.min(sx, sy));
    const scaled = { width: Math.min(s.width, box.width), height: Math.min(s.height, box.height) };
    const canvas = { width: box.width, height: box.height };
    const at = centredRect(canvas, scaled.width, scaled.height);
    return { crop: full, scaled, canvas, offset: { x: at.x, y: at.y } };
  }
  return plain(scaledBy(source, Math.min(1, sx, sy)));
}

/** The same plan for the stored (unrotated) pixels when EXIF orientation transposes them. */
export function transposeSize(size: Size): Size {
  return { width: size.height, height: size.width };
}
