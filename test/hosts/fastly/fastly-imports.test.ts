import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../../src/', import.meta.url).pathname;
const FASTLY_IMPORT = /from\s+['"]fastly:|import\(\s*['"]fastly:/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('fastly:* stays in src/hosts/fastly', () => {
  it('no other source file imports a fastly: module', () => {
    const offenders = files(SRC)
      .filter((f) => !f.startsWith(join(SRC, 'hosts/fastly/')))
      .filter((f) => FASTLY_IMPORT.test(readFileSync(f, 'utf8')))
      .map((f) => f.slice(SRC.length));
    expect(offenders).toEqual([]);
  });

  it('the check can fail', () => {
    expect(FASTLY_IMPORT.test(`import { CoreCache } from 'fastly:cache';`)).toBe(true);
  });
});
