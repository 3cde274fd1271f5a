/**
 * Initialising the codecs must not load Node's fetch implementation (undici) into the isolate:
 * wasm-bindgen's async init asks `typeof Request` / `typeof Response`, and in Node that alone
 * loads undici, ~2 MB more heap in every render thread for each full collection to mark
 * (codecs.ts initOnce). A fresh process, so nothing else has loaded it first.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inFreshNode } from '../support/fresh-node.js';

const CHILD = `
import { loadCodecModules } from './src/hosts/node/load-wasm.js';
import { createCodecs } from './src/render/codecs.js';
import { installImageDataPolyfill } from './src/render/image-data.js';
installImageDataPolyfill();
const codecs = createCodecs(await loadCodecModules());
const px = new Uint8ClampedArray(3 * 2 * 4).map((_, i) => (i * 37) % 256);
const png = await codecs.encode('png', new ImageData(px, 3, 2), 80);
const undici = process.moduleLoadList.filter((m) => m.includes('undici'));
console.log(JSON.stringify({ undici, png: Buffer.from(png).toString('base64') }));
`;

describe('codec initialisation (Node)', () => {
  it('leaves undici unloaded, and the PNG encoder it initialised synchronously works', async () => {
    const out = inFreshNode<{ undici: string[]; png: string }>(CHILD);
    expect(out.undici).toEqual([]);
    const { data, info } = await sharp(Buffer.from(out.png, 'base64')).raw().toBuffer({ resolveWithObject: true });
    expect([info.format, info.width, info.height, info.channels]).toEqual(['raw', 3, 2, 4]);
    expect([...data]).toEqual(Array.from({ length: 24 }, (_, i) => (i * 37) % 256));
  });
});
