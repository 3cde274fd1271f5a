import { describe, expect, it } from 'vitest';
import { createProgress } from '../../scripts/lib/progress.js';

describe('CLI progress', () => {
  it('redraws one bar in place on a terminal, throttled, and ends the line', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress({ write: (s) => out.push(s), isTTY: true, columns: 80 }, 'images', 4, { now: () => t });
    p.update(1, '1 rendered');
    t += 10;
    p.update(2, '2 rendered'); // within 100 ms: not drawn
    t += 200;
    p.update(3, '3 rendered');
    p.finish(4, '4 rendered');
    expect(out).toHaveLength(3);
    expect(out.every((s) => s.startsWith('\r\x1b[2K['))).toBe(true);
    expect(out[1]).toMatch(/\[#+\.+\] images 3\/4  75% · 3 rendered/);
    expect(out[2]).toMatch(/\[#+\] images 4\/4 100% · 4 rendered · 0\.2s\n$/);
  });

  it('prints plain lines elsewhere: one per 10 % or per interval, no escapes, no repeated final line', () => {
    const out: string[] = [];
    const p = createProgress({ write: (s) => out.push(s), isTTY: false }, 'keys', 100, { now: () => 0 });
    for (let i = 1; i <= 100; i++) p.update(i, `${i} copied`);
    p.finish(100, '100 copied');
    expect(out).toHaveLength(11); // 1 %, then every tenth
    expect(out.join('')).not.toMatch(/\x1b|\r/);
    expect(out[out.length - 1]).toBe('keys: 100/100 (100%) 100 copied 0.0s\n');
  });
});
