/** Places an image on a larger canvas (contain's letterbox); the rest stays transparent. */
import { blankImage } from './image-data.js';

export function letterbox(image: ImageData, width: number, height: number, x: number, y: number): ImageData {
  if (width === image.width && height === image.height) return image;
  const canvas = blankImage(width, height);
  const rowBytes = image.width * 4;
  for (let row = 0; row < image.height; row++) {
    const from = row * rowBytes;
    canvas.data.set(image.data.subarray(from, from + rowBytes), ((y + row) * width + x) * 4);
  }
  return canvas;
}
