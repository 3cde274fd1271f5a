import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = new URL('../../src/core/', import.meta.url).pathname;
const RENDER = new URL('../../src/render/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// The pipeline must run unchanged on Fastly, Deno and Node: Web APIs only.
const FORBIDDEN = [/from\s+['"]node:/, /from\s+['"]fastly:/, /\bDeno\./, /require\(/, /\bprocess\./, /\bBuffer\b/, /from\s+['"](fs|path|http|crypto|os)['"]/];

describe('platform-neutral code', () => {
  for (const dir of [CORE, RENDER]) {
    it(`${dir.split('/src/')[1]} imports no platform modules`, () => {
      const offenders = files(dir).flatMap((f) => {
        // Comments may name platform APIs (e.g. "Deno: Deno.readFile"); only code counts.
        const src = readFileSync(f, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
        return FORBIDDEN.filter((re) => re.test(src)).map((re) => `${f.split('/src/')[1]}: ${re}`);
      });
      expect(offenders).toEqual([]);
    });
  }

  it('detects a violation (the check can fail)', () => {
    expect(FORBIDDEN.some((re) => re.test(`import { readFile } from 'node:fs';`))).toBe(true);
    expect(FORBIDDEN.some((re) => re.test(`const x = Deno.env.get('X');`))).toBe(true);
  });
});
