import { sniffImage } from '../../src/core/image/sniff.js';

/** Header-level facts about an image body (format and pixel dimensions). */
export function imageFacts(body: ArrayBuffer | Uint8Array) {
  const info = sniffImage(body instanceof Uint8Array ? body : new Uint8Array(body));
  if (!info) throw new Error('response body is not a JPEG/PNG/WebP image');
  return info;
}
