/** Alpha handling: whether an image really uses its alpha channel, and flattening for JPEG. */
import { toImageData } from './image-data.js';

/**
 * True if any pixel is not fully opaque. Many RGBA PNGs are opaque throughout; treating them
 * as opaque keeps resize off its slower premultiplied path and JPEG off the flatten pass.
 */
export function usesAlpha(image: ImageData): boolean {
  const d = image.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return true;
  return false;
}

/** Composites onto an opaque background colour (JPEG has no alpha; white is what viewers expect). */
export function flattenAlpha(image: ImageData, background: readonly [number, number, number] = [255, 255, 255]): ImageData {
  const src = image.data;
  const out = new Uint8ClampedArray(src.length);
  const [br, bg, bb] = background;
  // Uint8ClampedArray rounds to nearest on store.
  for (let i = 0; i < src.length; i += 4) {
    const a = src[i + 3] as number;
    const inv = 255 - a;
    out[i] = ((src[i] as number) * a + br * inv) / 255;
    out[i + 1] = ((src[i + 1] as number) * a + bg * inv) / 255;
    out[i + 2] = ((src[i + 2] as number) * a + bb * inv) / 255;
    out[i + 3] = 255;
  }
  return toImageData(out, image.width, image.height);
}
