import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alphaMetadata, originalHasAlpha } from '../../../src/core/image/original-alpha.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`../../../samples/demo/${name}`, import.meta.url)));

describe('originalHasAlpha (recorded flag, else the sniffed header)', () => {
  it('answers from the flag an upload recorded, without reading the original', async () => {
    const read = async (): Promise<Uint8Array> => {
      throw new Error('read');
    };
    expect(await originalHasAlpha(alphaMetadata(true), read)).toBe(true);
    expect(await originalHasAlpha(alphaMetadata(false), read)).toBe(false);
    expect(alphaMetadata(true)).toEqual({ alpha: '1' });
  });

  it('sniffs originals stored without a flag (or with one it does not know)', async () => {
    expect(await originalHasAlpha(undefined, async () => sample('mysha.png'))).toBe(true);
    expect(await originalHasAlpha({ width: '256' }, async () => sample('astronaut.png'))).toBe(false);
    expect(await originalHasAlpha({ alpha: 'yes' }, async () => sample('mysha-webp.webp'))).toBe(true);
    expect(await originalHasAlpha({}, async () => new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it('is undefined when the original is gone by the time it is read', async () => {
    expect(await originalHasAlpha({}, async () => undefined)).toBeUndefined();
  });
});
