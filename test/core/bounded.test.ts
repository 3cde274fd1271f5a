import { describe, expect, it } from 'vitest';
import { errorText, runBatch } from '../../src/core/bounded.js';

describe('errorText (what every report says about a failure)', () => {
  it('is the first line of the message, at most 300 characters, with the code when the message lacks it', () => {
    expect(errorText(new Error('first line\n    at stack frame'))).toBe('first line');
    expect(errorText(new Error('x'.repeat(400)))).toHaveLength(300);
    expect(errorText(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('socket hang up [ECONNRESET]');
    expect(errorText(Object.assign(new Error('ECONNRESET: socket hang up'), { code: 'ECONNRESET' }))).toBe('ECONNRESET: socket hang up');
    expect(errorText('plain string')).toBe('plain string');
    expect(errorText(null)).toBe('null');
  });
});

describe('runBatch (precompute and migrate)', () => {
  it('runs every item, records each failure in errorText words and never throws', async () => {
    const failed: Array<[number, string]> = [];
    const done: number[] = [];
    const interrupted = await runBatch([1, 2, 3, 4], 2, { onError: (n, e) => failed.push([n, e]), after: (n) => done.push(n) }, async (n) => {
      if (n % 2 === 0) throw new Error(`item ${n} failed\n    at stack`);
    });
    expect(interrupted).toBe(false);
    expect(failed).toEqual([
      [2, 'item 2 failed'],
      [4, 'item 4 failed'],
    ]);
    expect(done.sort()).toEqual([1, 2, 3, 4]);
  });

  it('starts nothing once aborted, finishes what started, and says it was interrupted', async () => {
    const abort = new AbortController();
    const started: number[] = [];
    const done: number[] = [];
    const interrupted = await runBatch([1, 2, 3, 4, 5], 1, { signal: abort.signal, onError: () => {}, after: (n) => done.push(n) }, async (n) => {
      started.push(n);
      if (n === 2) abort.abort();
    });
    expect(interrupted).toBe(true);
    expect(started).toEqual([1, 2]);
    expect(done).toEqual([1, 2]);
  });
});
