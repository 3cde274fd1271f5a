import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../../src/core/storage-keys.js';
import { startTestHost } from '../../support/node-host.js';
import { STALL_MARKER, stallingJpeg } from '../../support/stall-source.js';

/**
 * The Node host under overload, over HTTP: one render thread, a queue of one, renders that
 * hold their thread (the scheduler's test-only stall hook) until the deadline stops them.
 */
describe('Node host: overload shedding and deadlines', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;

  beforeAll(async () => {
    host = await startTestHost({ tenants: { demo: {} } }, { renderThreads: 1, render: { maxQueue: 1, timeoutMs: 1500, stallForTests: { marker: STALL_MARKER, ms: 60_000 } } });
    const hopper = new Uint8Array(await readFile(new URL('../../../samples/demo/hopper.jpg', import.meta.url)));
    for (const tag of ['a', 'b', 'c']) await host.store.put(originalKey('demo', `slow-${tag}`), stallingJpeg(hopper, tag), { contentType: 'image/jpeg' });
  });
  afterAll(() => host?.stop());

  it('answers 503 RENDER_QUEUE_FULL (Retry-After, no-store) while cached hits keep answering 200', async () => {
    const warm = await host.get('/demo/hopper/64.webp');
    expect(warm.status).toBe(200);

    const held = [host.get('/demo/slow-a/64.webp'), host.get('/demo/slow-b/64.webp')]; // one renders, one waits
    while (host.pool.stats().queued < 1) await new Promise((r) => setTimeout(r, 5));

    const shed = await host.get('/demo/slow-c/64.webp');
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(shed.headers.get('cache-control')).toBe('no-store');
    expect(await shed.json()).toMatchObject({ code: 'RENDER_QUEUE_FULL' });

    const hit = await host.get('/demo/hopper/64.webp');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(host.pool.stats()).toMatchObject({ running: 1, queued: 1 }); // answered while the renders still held the thread

    const slow = await Promise.all(held);
    expect(slow.map((r) => r.status)).toEqual([422, 422]);
    for (const r of slow) {
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(await r.json()).toMatchObject({ code: 'RENDER_TIMEOUT' });
    }
    expect(host.pool.stats().recycled).toBeGreaterThanOrEqual(2); // each stopped thread was replaced

    // Remembered: another variant of a source that timed out is refused without rendering.
    const again = await host.get('/demo/slow-a/96.webp');
    expect(again.status).toBe(422);
    expect((await again.json()).code).toBe('RENDER_TIMEOUT');
    expect(host.pool.stats().timedOut).toBe(2);

    // And the next normal render works.
    const fresh = await host.get('/demo/hopper/96.webp');
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('content-type')).toBe('image/webp');
  });
});
