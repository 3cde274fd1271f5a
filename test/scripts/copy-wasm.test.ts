import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/**
 * scripts/copy-wasm.mjs --check-or-copy (what npm start, npm test, build:deno and precompute run
 * first) in a scratch directory laid out like the repository: a copy of the script and of wasm/,
 * node_modules linked, so a stale copy can be made without touching the repository's wasm/.
 */
describe('copy-wasm --check-or-copy', () => {
  let dir: string;
  const checkOrCopy = (env: Record<string, string> = {}) => run(process.execPath, [join(dir, 'scripts/copy-wasm.mjs'), '--check-or-copy'], { env: { PATH: process.env.PATH ?? '', ...env } });
  const sha256 = async (file: string) =>
    createHash('sha256')
      .update(await readFile(join(dir, 'wasm', file)))
      .digest('hex');
  const pinned = async (file: string) =>
    Object.values((JSON.parse(await readFile(join(dir, 'wasm/manifest.json'), 'utf8')) as { files: Record<string, { file: string; sha256: string }> }).files).find((f) => f.file === file)!.sha256;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-copy-wasm-'));
    await mkdir(join(dir, 'scripts'));
    await cp(join(ROOT, 'scripts/copy-wasm.mjs'), join(dir, 'scripts/copy-wasm.mjs'));
    await cp(join(ROOT, 'wasm'), join(dir, 'wasm'), { recursive: true, filter: (src) => src === join(ROOT, 'wasm') || /\.(wasm|json)$/.test(src) });
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    // The repository's own copy may be stale; start from a fresh one.
    await checkOrCopy({ npm_config_loglevel: 'silent' });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints nothing at all when wasm/ is up to date', async () => {
    expect(await checkOrCopy()).toEqual({ stdout: '', stderr: '' });
  });

  it('copies a file that no longer matches its pin, says so on stderr, never on stdout', async () => {
    await writeFile(join(dir, 'wasm/webp_enc.wasm'), 'not a codec');
    const { stdout, stderr } = await checkOrCopy();
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^copy-wasm: wasm\/webp_enc\.wasm does not match its sha256 in the manifest; copied \d+ codec files/);
    expect(await sha256('webp_enc.wasm')).toBe(await pinned('webp_enc.wasm'));
  });

  it('copies as quietly as the npm run -s around it', async () => {
    await writeFile(join(dir, 'wasm/webp_enc.wasm'), 'not a codec');
    expect(await checkOrCopy({ npm_config_loglevel: 'silent' })).toEqual({ stdout: '', stderr: '' });
    expect(await sha256('webp_enc.wasm')).toBe(await pinned('webp_enc.wasm'));
  });
});
