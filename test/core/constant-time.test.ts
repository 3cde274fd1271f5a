import { describe, expect, it } from 'vitest';
import { bearerIndex, bearerMatches, fixedLengthEqual, timingSafeEqual } from '../../src/core/constant-time.js';

describe('constant-time comparisons', () => {
  const sig = 'A'.repeat(42) + 'B';
  it('fixedLengthEqual: equal only for identical strings', () => {
    expect(fixedLengthEqual(sig, sig)).toBe(true);
    expect(fixedLengthEqual(sig, 'A'.repeat(43))).toBe(false);
    expect(fixedLengthEqual(sig, 'B' + 'A'.repeat(41) + 'B')).toBe(false);
    expect(fixedLengthEqual(sig, sig.slice(0, 42))).toBe(false);
    expect(fixedLengthEqual('', '')).toBe(true);
  });

  it('agrees with timingSafeEqual on signature-shaped strings', async () => {
    for (const other of [sig, 'A'.repeat(43), sig.replace('B', 'C'), '-'.repeat(43)]) {
      expect(fixedLengthEqual(sig, other)).toBe(await timingSafeEqual(sig, other));
    }
  });
});

describe('bearer tokens (the one place they are matched)', () => {
  const a = 'token-a-0123456789abcdef0123456789';
  const b = 'token-b-0123456789abcdef0123456789';
  it('finds which secret an Authorization header carries', async () => {
    expect(await bearerIndex(`Bearer ${a}`, [a, b])).toBe(0);
    expect(await bearerIndex(`Bearer ${b}`, [a, b])).toBe(1);
    expect(await bearerIndex(`Bearer ${b}`, [a, b, b])).toBe(1);
    expect(await bearerMatches(`Bearer ${b}`, [a, b])).toBe(true);
  });

  it('refuses anything but exactly "Bearer <1-512 printable characters>"', async () => {
    for (const header of [null, '', a, `bearer ${a}`, `Bearer  ${a}`, `Bearer ${a} `, `Basic ${a}`, 'Bearer ', `Bearer ${a}x`]) {
      expect(await bearerIndex(header, [a, b])).toBe(-1);
    }
    const long = 'L'.repeat(513);
    expect(await bearerIndex(`Bearer ${long}`, [long])).toBe(-1);
    expect(await bearerIndex(`Bearer ${long.slice(1)}`, [long.slice(1)])).toBe(0);
  });

  it('never matches an empty secret or an empty list', async () => {
    expect(await bearerIndex('Bearer ', [''])).toBe(-1);
    expect(await bearerIndex(`Bearer ${a}`, [])).toBe(-1);
    expect(await bearerMatches(`Bearer ${a}`, [])).toBe(false);
  });
});
