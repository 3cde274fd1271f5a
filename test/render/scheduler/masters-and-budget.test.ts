import { describe, expect, it } from 'vitest';
import { decodePeakBytes } from '../../../src/render/decode-peak.js';
import { alphaResizeBytes, renderPeakBytes, RENDER_OVERHEAD_BYTES } from '../../../src/render/render-memory.js';
import { createBudget } from '../../../src/render/scheduler/admission.js';
import { createMasterStore } from '../../../src/render/scheduler/masters.js';
import type { MasterMessage } from '../../../src/render/scheduler/protocol.js';

const info = { format: 'jpeg' as const, width: 4000, height: 3000, hasAlpha: false, orientation: 1 };
const master = (bytes: number, factor: number): MasterMessage => ({ data: new Uint8ClampedArray(bytes), width: bytes / 4, height: 1, factor, info });
const always = () => true;

describe('master store', () => {
  it('keeps a finer master over a coarser one of the same source, never the reverse', () => {
    const m = createMasterStore(1000);
    expect(m.offer('a', master(40, 8), always)).toBe(true);
    expect(m.offer('a', master(160, 4), always)).toBe(true);
    expect([m.get('a')?.factor, m.bytes]).toEqual([4, 160]);
    expect(m.offer('a', master(40, 8), always)).toBe(false);
    expect(m.get('a')?.factor).toBe(4);
  });

  it('drops the least recently used past its cap, and refuses what the budget cannot hold', () => {
    const m = createMasterStore(300);
    m.offer('a', master(100, 2), always);
    m.offer('b', master(100, 2), always);
    m.get('a'); // a is now more recent than b
    m.offer('c', master(160, 2), always);
    expect([m.get('a') !== undefined, m.get('b') !== undefined, m.get('c') !== undefined, m.bytes]).toEqual([true, false, true, 260]);
    expect(m.offer('d', master(400, 2), always)).toBe(false); // larger than the cap
    expect(m.offer('e', master(20, 2), () => false)).toBe(false);
    expect(m.get('e')).toBeUndefined();
  });
});

describe('memory budget', () => {
  it('reserves while bytes fit, evicting masters first, and releases', () => {
    const masters = createMasterStore(1000);
    const budget = createBudget(1000, masters);
    masters.offer('a', master(400, 2), budget.makeRoom);
    expect(budget.tryReserve(500)).toBe(true); // 400 of masters + 500 fit
    expect(budget.tryReserve(300)).toBe(true); // the master makes way
    expect(masters.size).toBe(0);
    expect(budget.tryReserve(300)).toBe(false); // 800 in flight: nothing left to evict
    budget.release(500);
    expect(budget.tryReserve(300)).toBe(true);
    expect(budget.inflight).toBe(600);
  });
});

describe("render estimates (from the header alone, built on the decoders' decodePeakBytes)", () => {
  const cover = (side: number) => ({ width: side, height: side, fit: 'cover' as const });

  it("a small variant costs its decode stage: the decoders' peak, the thread's copy of the source and the fixed costs", () => {
    const baseline = { ...info, progressive: false };
    expect(renderPeakBytes(baseline, cover(128), 8, 3e6)).toBe(decodePeakBytes(baseline, 8, 3e6) + 3e6 + RENDER_OVERHEAD_BYTES);
    // A progressive file keeps coefficients for every block of the full image until its last scan:
    // at 1/8 the DC and a 64-bit mask of the others (10 bytes a block of 64 samples); at full size all of them.
    const progressive = { ...info, progressive: true, samplesPerPixel: 1.5 };
    const blocks = (4000 * 3000 * 1.5) / 64;
    expect(renderPeakBytes(progressive, cover(128), 8, 3e6)).toBe(renderPeakBytes(baseline, cover(128), 8, 3e6) + blocks * 10);
    expect(decodePeakBytes(progressive, 1, 3e6)).toBe(decodePeakBytes(baseline, 1, 3e6) + blocks * 128);
    // Other formats have no reduced decode.
    expect(renderPeakBytes({ ...info, format: 'png' }, cover(128), 8, 3e6)).toBe(renderPeakBytes({ ...info, format: 'png' }, cover(128), 1, 3e6));
  });

  it("a source whose header allows alpha counts its resize's f32 rows and weights", () => {
    // A 1600×1600 PNG to 512 px: no pre-shrink (ratio 3.1), so lanczos3 reads 1600-pixel rows
    // with a window of 2⌈3 × 3.125⌉ + 1 = 21 taps: one input row, 22 output-wide rows, the weights.
    const png = { format: 'png' as const, width: 1600, height: 1600, orientation: 1 };
    const opaque = renderPeakBytes({ ...png, hasAlpha: false }, cover(512), 1, 1e6);
    const floats = (1600 + 22 * 512) * 16 + (512 + 512) * 22 * 4;
    expect(alphaResizeBytes(1600, 1600, 512, 512)).toBe(floats);
    expect(renderPeakBytes({ ...png, hasAlpha: true }, cover(512), 1, 1e6)).toBe(opaque + floats);
    // Unknown counts as alpha: the estimate is an upper bound.
    expect(renderPeakBytes(png, cover(512), 1, 1e6)).toBe(renderPeakBytes({ ...png, hasAlpha: true }, cover(512), 1, 1e6));
  });

  it('a large variant costs its resize when that is larger: the decoded pixels, the region lanczos3 reads, the output', () => {
    const small = renderPeakBytes({ ...info, progressive: false }, cover(256), 4, 3e6);
    const large = renderPeakBytes(info, { width: 2048, height: 0, fit: 'inside' }, 1, 3e6);
    expect(small).toBeLessThan(40 * 1024 * 1024);
    expect(large).toBeGreaterThan(decodePeakBytes(info, 1, 3e6) + 3e6 + RENDER_OVERHEAD_BYTES);
  });
});
