/**
 * The render scheduler's source key on Node and Deno (hosts/node-compat/node-crypto-sha256.ts):
 * the same digest as the core's Web Crypto one, and a large source hashed a slice at a time so
 * the event loop (cache hits) gets turns in between.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/sha256.js';
import { nodeSha256Hex } from '../../../src/hosts/node-compat/node-crypto-sha256.js';

describe('nodeSha256Hex', () => {
  it('is the Web Crypto digest, in lower-case hex, for sources small and large (a view into a larger buffer too)', async () => {
    const big = new Uint8Array(randomBytes(9 * 1024 * 1024 + 7));
    const sources = [new Uint8Array(0), new Uint8Array([0x61, 0x62, 0x63]), new Uint8Array(randomBytes(1_100_000)), big, big.subarray(3, 5 * 1024 * 1024)];
    for (const s of sources) expect(await nodeSha256Hex(s)).toBe(await sha256Hex(s));
    expect(await nodeSha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('answers a small source at once, and lets the event loop turn while it hashes a large one', async () => {
    expect(typeof nodeSha256Hex(new Uint8Array(1000))).toBe('string');
    const order: string[] = [];
    setImmediate(() => order.push('event loop'));
    const pending = nodeSha256Hex(new Uint8Array(12 * 1024 * 1024));
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    order.push('hashed');
    expect(order).toEqual(['event loop', 'hashed']);
  });
});
