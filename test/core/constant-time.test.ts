import { describe, expect, it } from 'vitest';
import { fixedLengthEqual, timingSafeEqual } from '../../src/core/constant-time.js';

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
