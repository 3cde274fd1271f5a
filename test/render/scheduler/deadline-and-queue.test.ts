import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors.js';
import { sniffImage } from '../../../src/core/image/sniff.js';
import type { Variant } from '../../../src/core/variant.js';
import { createRenderPool, type RenderPool } from '../../../src/hosts/node/render-pool.js';
import { createTimeoutMemory } from '../../../src/render/scheduler/deadline.js';
import { codecModules, sample } from '../helpers.js';
import { STALL_MARKER, stallingJpeg } from '../../support/stall-source.js';

const variant = (w: number): Variant => ({ tenant: 'demo', id: 'x', width: w, height: w, fit: 'cover', format: 'webp', quality: 75, version: '', negotiated: false });
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as HttpError,
  );

// Stalled renders spin for a minute: far past any deadline here, so only the deadline ends them.
const stallForTests = { marker: STALL_MARKER, ms: 60_000 };
// The deadline: long enough that a normal render on a loaded CI machine never reaches it, short
// enough to keep the test quick (the stalled renders each wait it out).
const DEADLINE_MS = 1500;

let pool: RenderPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe.each([
  ['worker threads', 1],
  ['the main thread', 0],
])('deadline on %s', (_name, size) => {
  it('stops a render past its deadline with 422 RENDER_TIMEOUT, remembers the source, and keeps rendering', async () => {
    // On the main thread nothing can interrupt the spin: a short stall, caught by the check between stages.
    const stall = size === 0 ? { marker: STALL_MARKER, ms: 2 * DEADLINE_MS } : stallForTests;
    pool = createRenderPool({ modules: await codecModules(), size, timeoutMs: DEADLINE_MS, stallForTests: stall });
    await pool.warmUp();
    const slow = stallingJpeg(sample('hopper.jpg'), 'a');
    const err = await failure(pool.render(slow, variant(64)));
    expect(err).toBeInstanceOf(HttpError);
    expect([err!.status, err!.code]).toEqual([422, 'RENDER_TIMEOUT']);
    if (size > 0) expect(pool.stats().recycled).toBe(1); // the thread was terminated and replaced
    expect(pool.stats()).toMatchObject({ timedOut: 1, running: 0, threads: 1 });

    // The same original, another variant: refused at once, without a thread.
    const again = await failure(pool.render(slow, variant(32)));
    expect(again?.code).toBe('RENDER_TIMEOUT');
    expect(pool.stats()).toMatchObject({ timedOut: 1, running: 0, queued: 0 });

    const ok = await pool.render(sample('hopper.jpg'), variant(48));
    expect(sniffImage(ok.body)).toMatchObject({ format: 'webp', width: 48, height: 48 });
  });
});

describe('overload', () => {
  it('answers 503 RENDER_QUEUE_FULL with Retry-After and no-store once the queue is full, and recovers', async () => {
    pool = createRenderPool({ modules: await codecModules(), size: 1, maxQueue: 2, timeoutMs: DEADLINE_MS, stallForTests });
    await pool.warmUp();
    // One running and two waiting: the thread is held, the queue full.
    const held = ['a', 'b', 'c'].map((tag) => failure(pool!.render(stallingJpeg(sample('hopper.jpg'), tag), variant(64))));
    await until(() => pool!.stats().queued === 2); // once they have hashed their sources
    expect(pool.stats()).toMatchObject({ running: 1, queued: 2 });
    const shed = await failure(pool.render(sample('hopper.jpg'), variant(64)));
    expect([shed!.status, shed!.code]).toEqual([503, 'RENDER_QUEUE_FULL']);
    expect(shed!.headers['retry-after']).toMatch(/^\d+$/);
    expect(shed!.headers['cache-control']).toBe('no-store');
    expect(pool.stats().shed).toBe(1);
    // Each stalled render times out in turn; then the queue is free again.
    expect((await Promise.all(held)).map((e) => e?.code)).toEqual(['RENDER_TIMEOUT', 'RENDER_TIMEOUT', 'RENDER_TIMEOUT']);
    const ok = await pool.render(sample('hopper.jpg'), variant(64));
    expect(sniffImage(ok.body)).toMatchObject({ width: 64, height: 64 });
  });
});

describe('timeout memory', () => {
  it('forgets a source after its time, and keeps at most its size', () => {
    let now = 0;
    const m = createTimeoutMemory(1000, 2, () => now);
    m.add('a');
    expect(m.has('a')).toBe(true);
    now = 1000;
    expect(m.has('a')).toBe(false);
    m.add('b');
    m.add('c');
    m.add('d');
    expect([m.has('b'), m.has('c'), m.has('d'), m.size]).toEqual([false, true, true, 2]);
  });
});
