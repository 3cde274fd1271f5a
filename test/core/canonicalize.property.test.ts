import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.js';
import { canonicalPathAndQuery } from '../../src/core/request/canonical-url.js';
import { canon } from './helpers.js';

const junkName = fc.constantFrom('utm_source', 'utm_medium', 'fbclid', 'gclid', '_', 'cb', 'ref', 'W', 'Fit', 'FMT');
const paramName = fc.oneof(fc.constantFrom('w', 'h', 'fit', 'fmt', 'q', 'dpr', 'v', 'exp', 'kid', 'sig'), junkName, fc.string({ maxLength: 6 }));
const paramValue = fc.oneof(
  fc.integer({ min: -10, max: 5000 }).map(String),
  fc.double({ min: 0, max: 12, noNaN: true }).map((d) => d.toFixed(2)),
  fc.constantFrom('cover', 'CONTAIN', 'inside', 'auto', 'webp', 'JPG', 'png', 'gif', '', '1e3', '0x10', ' 12 '),
  fc.string({ maxLength: 12 }),
);
const query = fc.array(fc.tuple(paramName, paramValue), { maxLength: 8 }).map((pairs) => {
  const q = new URLSearchParams();
  for (const [k, v] of pairs) q.append(k, v);
  return q.toString();
});
const accept = fc.constantFrom(null, '*/*', 'image/webp,*/*', 'image/avif,image/webp,image/apng,*/*;q=0.8', 'image/png', 'image/webp;q=0');

/** Runs canonicalization; returns the variant, or the HttpError it threw (anything else fails the test). */
function run(pq: string, acc: string | null) {
  try {
    return canon(pq, acc);
  } catch (e) {
    if (e instanceof HttpError && e.status >= 400 && e.status < 500) return e;
    throw e;
  }
}

describe('canonicalization properties', () => {
  it('never throws anything but a typed 4xx', () => {
    fc.assert(
      fc.property(query, accept, (q, a) => void run(`/demo/u-42?${q}`, a)),
      { numRuns: 3000 },
    );
  });

  it('is idempotent: the canonical URL of a variant canonicalizes to the same variant', () => {
    fc.assert(
      fc.property(query, accept, (q, a) => {
        const v = run(`/demo/u-42?${q}`, a);
        if (v instanceof HttpError) return;
        const again = canon(canonicalPathAndQuery({ ...v, format: v.negotiated ? 'auto' : (v.format as 'webp') }), a);
        expect(again).toEqual(v);
      }),
      { numRuns: 3000 },
    );
  });

  it('ignores parameter order and junk parameters', () => {
    fc.assert(
      fc.property(query, fc.array(fc.tuple(junkName, fc.string({ maxLength: 8 })), { maxLength: 4 }), accept, (q, junk, a) => {
        const base = run(`/demo/u-42?${q}`, a);
        const params = [...new URLSearchParams(q)];
        const allowed = new Set(['w', 'h', 'fit', 'fmt', 'q', 'dpr', 'v', 'exp', 'kid', 'sig']);
        // Junk whose name collides with a real param (case-insensitively) is not junk: skip those.
        const extra = junk.filter(([k]) => !allowed.has(k.toLowerCase()));
        const shuffled = new URLSearchParams([...params].reverse().concat(extra)).toString();
        const other = run(`/demo/u-42?${shuffled}`, a);
        if (base instanceof HttpError) expect(other).toBeInstanceOf(HttpError);
        else expect(other).toEqual(base);
      }),
      { numRuns: 2000 },
    );
  });
});
