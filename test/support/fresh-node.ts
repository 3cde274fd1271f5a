import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/**
 * Runs `script` (an ES module, under tsx, from the repository root) in a fresh Node process, so
 * nothing the test process loaded or set is there, and returns the JSON its last line prints.
 */
export function inFreshNode<T>(script: string): T {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as T;
}
