import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Everything in src/storage except the directory store runs on Fastly and Deno too.
const DIR = new URL('../../src/storage/', import.meta.url);
const NODE_ONLY = new Set(['fs-store.ts']);
const FORBIDDEN = [/from\s+['"]node:/, /from\s+['"]fastly:/, /\bDeno\./, /require\(/, /\bprocess\./, /\bBuffer\b/, /import\(['"]node:/];

describe('src/storage is portable', () => {
  it('imports nothing platform-specific outside fs-store.ts', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !NODE_ONLY.has(f));
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.flatMap((f) => {
      const src = readFileSync(new URL(f, DIR), 'utf8');
      return FORBIDDEN.filter((re) => re.test(src)).map((re) => `${f}: ${re}`);
    });
    expect(offenders).toEqual([]);
  });
});
