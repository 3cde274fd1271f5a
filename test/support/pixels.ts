import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { sniffImage } from '../../src/core/image/sniff.js';
import { createCodecs, type Codecs } from '../../src/render/codecs.js';

let codecs: Promise<Codecs> | undefined;

/** Decodes a response body for real (jsquash) to check what a user would see: size and pixels. */
export async function decodeToRgba(body: Uint8Array): Promise<ImageData & { format: string }> {
  const info = sniffImage(body);
  if (!info) throw new Error('not a JPEG/PNG/WebP image');
  codecs ??= loadCodecModules().then(createCodecs);
  const img = await (await codecs).decode(info.format, body);
  return Object.assign(img, { format: info.format });
}
