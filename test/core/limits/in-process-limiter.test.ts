import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors.js';
import { createInProcessLimiter } from '../../../src/core/limits/in-process-limiter.js';
import { parseRateLimits } from '../../../src/core/limits/rate-limits.js';

function setup(json: object, extra: { maxClients?: number; maxTenants?: number } = {}) {
  const problems: string[] = [];
  const limits = parseRateLimits(JSON.stringify(json), problems);
  expect(problems).toEqual([]);
  const clock = { t: 1_000_000, now: () => clock.t };
  const refused: string[] = [];
  const limiter = createInProcessLimiter({ limits, clock, onRefused: (s) => refused.push(s), ...extra });
  return { limiter, clock, refused };
}

/** The refusal a call throws (status, code, Retry-After), or 'ok'. */
function outcome(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return `${err.status} ${err.code} retry-after ${err.headers['retry-after']}`;
  }
}

const times = (n: number, f: () => string) => Array.from({ length: n }, f);

describe('in-process client limit', () => {
  it('allows clientRps × clientWindow requests per window, then boxes the IP for penaltyMinutes with the time left', () => {
    const { limiter, clock, refused } = setup({ clientRps: 2, clientWindow: 10, penaltyMinutes: 2, rendersPerMinute: 0 });
    const check = () => outcome(() => limiter.checkClient('demo', '192.0.2.1'));
    expect(times(20, check).every((o) => o === 'ok')).toBe(true);
    expect(check()).toBe('429 RATE_LIMITED retry-after 120');
    clock.t += 30_500;
    // Refused without being counted, Retry-After counts down (rounded up to whole seconds).
    expect(check()).toBe('429 RATE_LIMITED retry-after 90');
    // Another IP, and the same IP on another tenant, have their own counts.
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.2'))).toBe('ok');
    expect(outcome(() => limiter.checkClient('other', '192.0.2.1'))).toBe('ok');
    clock.t += 89_500;
    expect(check()).toBe('ok');
    expect(refused).toEqual(['request', 'request']);
  });

  it('slides: the last window counts by how much of it still overlaps', () => {
    const { limiter, clock } = setup({ clientRps: 1, clientWindow: 10 });
    const check = () => outcome(() => limiter.checkClient('demo', '192.0.2.1'));
    expect(times(10, check).every((o) => o === 'ok')).toBe(true);
    // Halfway through the next window the last one's 10 weigh 5: 5 more, not 10.
    clock.t += 15_000;
    expect(times(5, check).every((o) => o === 'ok')).toBe(true);
    expect(check()).toMatch(/^429/);
  });

  it('starts afresh after an idle window, and limits nothing with clientRps 0 or without an address', () => {
    const { limiter, clock } = setup({ clientRps: 1, clientWindow: 1, tenants: { open: { clientRps: 0 } } });
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.1'))).toBe('ok');
    clock.t += 5_000;
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.1'))).toBe('ok');
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.1'))).toMatch(/^429/);
    expect(times(50, () => outcome(() => limiter.checkClient('open', '192.0.2.1'))).every((o) => o === 'ok')).toBe(true);
    expect(times(50, () => outcome(() => limiter.checkClient('demo', undefined))).every((o) => o === 'ok')).toBe(true);
  });

  it('holds at most maxClients entries, evicting the oldest', () => {
    const { limiter } = setup({ clientRps: 1, clientWindow: 1 }, { maxClients: 3 });
    for (let i = 0; i < 10; i++) limiter.checkClient('demo', `192.0.2.${i}`);
    expect(limiter.size().clients).toBe(3);
    // .9 is still tracked (its second request in the second is refused); .0 was evicted (counted afresh).
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.9'))).toMatch(/^429/);
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.0'))).toBe('ok');
    expect(limiter.size().clients).toBe(3);
    // A tenant with no entries yet takes the place of another tenant's oldest.
    limiter.checkClient('other', '192.0.2.0');
    expect(limiter.size().clients).toBe(3);
    expect(outcome(() => limiter.checkClient('demo', '192.0.2.8'))).toBe('ok');
  });
});

describe('in-process render budget', () => {
  it('allows rendersPerMinute per tenant per minute, then 503 RENDER_BUDGET until the minute is over', () => {
    const { limiter, clock, refused } = setup({ rendersPerMinute: 3, tenants: { big: { rendersPerMinute: 5 } } });
    const take = (t: string) => outcome(() => limiter.takeRender(t));
    expect(times(3, () => take('demo'))).toEqual(['ok', 'ok', 'ok']);
    expect(take('demo')).toBe('503 RENDER_BUDGET retry-after 60');
    expect(times(5, () => take('big')).every((o) => o === 'ok')).toBe(true);
    expect(take('big')).toMatch(/^503/);
    clock.t += 45_200;
    expect(take('demo')).toBe('503 RENDER_BUDGET retry-after 15');
    clock.t += 14_800;
    expect(take('demo')).toBe('ok');
    expect(refused).toEqual(['render', 'render', 'render']);
  });

  it('says which tenant and what its budget is, like the Fastly host', () => {
    const { limiter } = setup({ rendersPerMinute: 1 });
    limiter.takeRender('demo');
    expect(() => limiter.takeRender('demo')).toThrow("tenant 'demo' is over its render budget (1 per minute); retry later");
  });

  it('holds at most maxTenants budgets, and none for a tenant whose budget is off', () => {
    const { limiter } = setup({ rendersPerMinute: 1, tenants: { free: { rendersPerMinute: 0 } } }, { maxTenants: 2 });
    for (const t of ['a', 'b', 'c', 'free', 'free']) limiter.takeRender(t);
    expect(limiter.size().tenants).toBe(2);
    // 'a' was evicted: its budget starts again; 'c' still has its count.
    expect(outcome(() => limiter.takeRender('a'))).toBe('ok');
    expect(outcome(() => limiter.takeRender('c'))).toMatch(/^503/);
  });
});
