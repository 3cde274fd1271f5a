import { afterEach, describe, expect, it, vi } from 'vitest';
import { warmUpSnapshot } from '../../../src/hosts/fastly/snapshot-warmup.js';

describe('snapshot warm-up (run at build time by the Fastly entry)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('runs the whole hot path, the signed request included, without a failure to report', async () => {
    const reported: string[] = [];
    await warmUpSnapshot((m) => reported.push(m));
    expect(reported).toEqual([]);
  });

  it('never reads the real clock or draws random numbers, which a js-compute build cannot do', async () => {
    const now = vi.spyOn(Performance.prototype, 'now');
    const uuid = vi.spyOn(crypto, 'randomUUID');
    const random = vi.spyOn(crypto, 'getRandomValues');
    await warmUpSnapshot(() => {});
    expect(now).not.toHaveBeenCalled();
    expect(uuid).not.toHaveBeenCalled();
    expect(random).not.toHaveBeenCalled();
  });

  it('leaves performance.now and Response as it found them', async () => {
    const response = globalThis.Response;
    await warmUpSnapshot(() => {});
    expect(globalThis.Response).toBe(response);
    expect(Object.hasOwn(performance, 'now')).toBe(false);
    const a = performance.now();
    await new Promise((r) => setTimeout(r, 5));
    expect(performance.now()).toBeGreaterThan(a);
  });

  it('reports a failure instead of throwing it', async () => {
    const reported: string[] = [];
    vi.spyOn(crypto.subtle, 'sign').mockRejectedValue(new Error('no crypto here'));
    await expect(warmUpSnapshot((m) => reported.push(m))).resolves.toBeUndefined();
    expect(reported).toEqual([expect.stringContaining('no crypto here')]);
  });
});
