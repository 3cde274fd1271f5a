/**
 * Face/auto cover crops through the scheduler (on the inline thread, the same body as the
 * worker threads): a render from a kept master crops around the focal record it is given, and
 * a source's record is found once and reused by the renders after it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FocalRecord } from '../../../src/core/focal-point.js';
import type { Variant } from '../../../src/core/variant.js';
import { createFocalFinder, type FocalFinder } from '../../../src/render/focal/find-focal.js';
import { startInlineThread } from '../../../src/render/scheduler/inline-thread.js';
import { createRenderScheduler } from '../../../src/render/scheduler/pool.js';
import { codecModules, codecs, decodeOutput, pixel, renderer, sample, solid } from '../helpers.js';

const RED = [220, 30, 30, 255];
const BLUE = [30, 30, 220, 255];
const crop = (side: number, focal?: FocalRecord): Variant => ({
  tenant: 'faces',
  id: 'x',
  width: side,
  height: side,
  fit: 'cover',
  format: 'png',
  quality: 100,
  version: '',
  negotiated: false,
  gravity: 'auto',
  ...(focal ? { focal } : {}),
});
const at = (x: number): FocalRecord => ({ face: { x, y: 0.5 }, saliency: null });

/** A 4:1 photo, red on the left half, blue on the right: a square crop shows one colour, wherever it is placed. */
async function wideSource(): Promise<Uint8Array> {
  return (await codecs()).encode('png', solid(800, 200, RED, BLUE), 100);
}

async function scheduler(findFocal?: FocalFinder) {
  const s = createRenderScheduler({ modules: await codecModules(), startThread: () => startInlineThread({ findFocal: findFocal && (() => findFocal) }) });
  await s.warmUp();
  return s;
}

async function centreColour(body: Uint8Array): Promise<number[]> {
  const img = await decodeOutput(body);
  return pixel(img, img.width >> 1, img.height >> 1).slice(0, 3);
}

describe('scheduler, focal records', () => {
  it('a render from the kept master crops around the record it is given', async () => {
    const s = await scheduler();
    const source = await wideSource();
    const right = await s.render(source, crop(64, at(0.95)));
    expect(await centreColour(right.body)).toEqual(BLUE.slice(0, 3));
    const left = await s.render(source, crop(32, at(0.05)));
    expect(s.stats().fromMaster).toBe(1);
    expect(await centreColour(left.body)).toEqual(RED.slice(0, 3));
    // Given by the caller: nothing to hand back for storing.
    expect([right.focal, left.focal]).toEqual([undefined, undefined]);
    await s.close();
  });

  it("finds a source's record once: twins and later sizes reuse it and hand it to callers without one", async () => {
    let calls = 0;
    const real = createFocalFinder(undefined); // saliency only: no face detector needed here
    const s = await scheduler(async (image, orientation) => (calls++, real(image, orientation)));
    const source = await wideSource();
    const [a, b] = await Promise.all([s.render(source, crop(64)), s.render(source, crop(48))]);
    const later = await s.render(source, crop(32));
    expect(calls).toBe(1);
    expect(a.focal).toBeDefined();
    expect([b.focal, later.focal]).toEqual([a.focal, a.focal]);
    // Exactly one of the twins detected (which one reaches the scheduler first is up to the
    // hashing of the source), and the later size did not.
    const detected = [a, b].filter((r) => r.timings.detect !== undefined);
    expect(detected).toHaveLength(1);
    expect(detected[0]!.timings.detect).toBeGreaterThanOrEqual(0);
    expect(later.timings.detect).toBeUndefined();
    // A caller's stored record wins over the remembered one, and is not handed back.
    const given = await s.render(source, crop(64, at(0.05)));
    expect(given.focal).toBeUndefined();
    expect(await centreColour(given.body)).toEqual(RED.slice(0, 3));
    expect(calls).toBe(1);
    await s.close();
  });

  it("finds the record on the detector's scale, not on the coarse master a small centre crop kept", async () => {
    const findFocal = createFocalFinder(undefined);
    const s = await scheduler(findFocal);
    // 1024×576: a 32 px avatar decodes it at 1/8 (128×72); the detector needs a 256 px short side.
    const source = new Uint8Array(readFileSync(new URL('../../fixtures/faces/seeding-noface.jpg', import.meta.url)));
    await s.render(source, { ...crop(32), gravity: 'center' });
    const fromMaster = s.stats().fromMaster;
    const auto = await s.render(source, crop(32));
    expect(s.stats().fromMaster).toBe(fromMaster); // decoded again, finer
    // The record a direct render finds on the same pixels (1/2: 512×288).
    const direct = await (await renderer({ findFocal })).render(source, crop(128));
    expect(auto.focal).toEqual(direct.focal);
    expect(auto.focal?.saliency ?? auto.focal?.face).toBeTruthy();
    await s.close();
  }, 60_000);

  it('a coarse master that still has the pixels the detector looks at serves the render that finds the record', async () => {
    const findFocal = createFocalFinder(undefined);
    const s = await scheduler(findFocal);
    const source = sample('seeding.jpg'); // 5312×2988: 1/8 is 664×373, more than the detector's 256 px short side
    await s.render(source, { ...crop(32), gravity: 'center' });
    const fromMaster = s.stats().fromMaster;
    const auto = await s.render(source, crop(32));
    expect(s.stats().fromMaster).toBe(fromMaster + 1);
    expect(auto.focal?.saliency ?? auto.focal?.face).toBeTruthy();
    await s.close();
  }, 60_000);

  it('centre crops never look for a focal point', async () => {
    let calls = 0;
    const real = createFocalFinder(undefined);
    const s = await scheduler(async (image, orientation) => (calls++, real(image, orientation)));
    const r = await s.render(await wideSource(), { ...crop(64), gravity: 'center' });
    expect([calls, r.focal, r.timings.detect]).toEqual([0, undefined, undefined]);
    await s.close();
  });
});
