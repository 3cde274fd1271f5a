import { describe, expect, it } from 'vitest';
import { mapBounded, withRetries } from '../../../src/core/bounded.js';
import { purgeKeys } from '../../../src/core/purge/purge-keys.js';
import type { PurgeKeyResult, Purger } from '../../../src/core/purge/purger.js';

const noSleep = async () => {};
const retry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 };

function fakePurger(behave: (keys: string[], call: number) => PurgeKeyResult[] | Error, maxBatch = 2) {
  const calls: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const purger: Purger = {
    maxBatch,
    async purge(keys) {
      calls.push(keys);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      const r = behave(keys, calls.length);
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return { purger, calls, maxInFlight: () => maxInFlight };
}

const allOk = (keys: string[]) => keys.map((key) => ({ key, ok: true, purgeId: `id-${key}` }));

describe('purgeKeys', () => {
  it('deduplicates, splits into the purger batch size and bounds concurrency', async () => {
    const keys = ['t:a', 'i:a/1', 'i:a/2', 'i:a/3', 'i:a/4', 'i:a/5', 'i:a/6', 'i:a/1'];
    const f = fakePurger(allOk, 2);
    const reports = await purgeKeys(f.purger, keys, { soft: true, concurrency: 2, retry, sleep: noSleep });
    expect(reports.map((r) => r.key)).toEqual(['t:a', 'i:a/1', 'i:a/2', 'i:a/3', 'i:a/4', 'i:a/5', 'i:a/6']);
    expect(f.calls.map((c) => c.length)).toEqual([2, 2, 2, 1]);
    expect(f.maxInFlight()).toBeLessThanOrEqual(2);
    expect(reports.every((r) => r.ok && r.soft && r.attempts === 1 && r.purgeId === `id-${r.key}`)).toBe(true);
  });

  it('retries only the keys that failed, and a batch that threw', async () => {
    let failedOnce = false;
    const f = fakePurger((keys, call) => {
      if (call === 1) return new Error('503 from purge API');
      return keys.map((key) => {
        if (key === 'i:a/2' && !failedOnce) {
          failedOnce = true;
          return { key, ok: false, error: 'rate limited' };
        }
        return { key, ok: true };
      });
    }, 10);
    const reports = await purgeKeys(f.purger, ['i:a/1', 'i:a/2'], { soft: false, retry, sleep: noSleep });
    expect(f.calls).toEqual([['i:a/1', 'i:a/2'], ['i:a/1', 'i:a/2'], ['i:a/2']]);
    expect(reports).toMatchObject([
      { key: 'i:a/1', ok: true, attempts: 2 },
      { key: 'i:a/2', ok: true, attempts: 3 },
    ]);
  });

  it('reports keys that still fail after every attempt, and keys the purger did not mention', async () => {
    const f = fakePurger((keys) => keys.filter((k) => k !== 'i:a/silent').map((key) => ({ key, ok: key !== 'i:a/bad', error: key === 'i:a/bad' ? 'nope' : undefined })), 10);
    const reports = await purgeKeys(f.purger, ['i:a/ok', 'i:a/bad', 'i:a/silent'], { soft: false, retry, sleep: noSleep });
    expect(reports).toMatchObject([
      { key: 'i:a/ok', ok: true, attempts: 1 },
      { key: 'i:a/bad', ok: false, error: 'nope', attempts: 3 },
      { key: 'i:a/silent', ok: false, error: 'no result for this key', attempts: 3 },
    ]);
  });
});

describe('bounded helpers', () => {
  it('mapBounded keeps order and never exceeds the limit', async () => {
    let inFlight = 0;
    let max = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(max).toBe(2);
    expect(await mapBounded([], 3, async () => 1)).toEqual([]);
  });

  it('withRetries gives up after the attempts and reports the last error', async () => {
    let n = 0;
    const r = await withRetries(
      async () => {
        n++;
        throw new Error(`fail ${n}\nstack`);
      },
      retry,
      noSleep,
    );
    expect(r).toEqual({ ok: false, error: 'fail 3', attempts: 3 });
    const s = await withRetries(async () => (++n > 4 ? 'ok' : Promise.reject(new Error('x'))), retry, noSleep);
    expect(s).toEqual({ ok: true, value: 'ok', attempts: 2 });
  });
});
