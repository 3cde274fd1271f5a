import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDenoBundle, DENO_BIN } from '../support/deno-host.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const LOCAL_ADMIN = { authorization: 'Bearer local-dev-only-admin-token-do-not-deploy' };

describe('npm run -s precompute -- --json', () => {
  it('prints only JSON on stdout, and nothing of copy-wasm (progress goes to stderr)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-precompute-json-'));
    try {
      const { stdout, stderr } = await run('npm', ['run', '-s', 'precompute', '--', '--tenant', 'demo', '--dry-run', '--json'], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dataDir, STORAGE: 'fs', AVATAR_CONFIG: '' },
      });
      expect(JSON.parse(stdout)).toMatchObject({ images: 0, dryRun: true, failed: [] });
      expect(stderr).not.toContain('copy-wasm');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * scripts/start-deno.sh (what `npm run start:deno` and `deno task start` run after the build),
 * run in a scratch directory laid out like the repository: the bundle at dist/deno, a copy of
 * config/local.json, and .data written there.
 */
describe('npm run start:deno', () => {
  let bundle: Awaited<ReturnType<typeof buildDenoBundle>>;
  let cwd: string;

  beforeAll(async () => {
    bundle = await buildDenoBundle();
    cwd = await mkdtemp(join(tmpdir(), 'avatar-edge-start-deno-'));
    await mkdir(join(cwd, 'dist'), { recursive: true });
    await symlink(bundle.dir, join(cwd, 'dist', 'deno'));
    await cp(join(ROOT, 'config'), join(cwd, 'config'), { recursive: true });
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
    await bundle?.remove();
  });

  async function start(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
    const child: ChildProcess = spawn('sh', [join(ROOT, 'scripts/start-deno.sh')], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), DENO: DENO_BIN, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in 30 s:\n${out}`)), 30_000);
      child.stdout!.on('data', () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`start-deno.sh exited with ${code}:\n${out}`)));
    });
    return {
      url,
      async stop() {
        child.kill('SIGTERM');
        await exited;
      },
    };
  }

  it('reads config/local.json like npm start: the signed tenant and the local admin token', async () => {
    const host = await start({});
    try {
      const secure = await fetch(`${host.url}/secure/hopper?w=64`);
      expect([secure.status, ((await secure.json()) as { code: string }).code]).toEqual([403, 'SIGNATURE_REQUIRED']);
      const audit = await fetch(`${host.url}/_admin/audit?limit=1`, { headers: LOCAL_ADMIN });
      expect(audit.status).toBe(200);
    } finally {
      await host.stop();
    }
  });

  it("AVATAR_CONFIG='' still means the embedded defaults (tenant demo only, no admin token)", async () => {
    const host = await start({ AVATAR_CONFIG: '' });
    try {
      const secure = await fetch(`${host.url}/secure/hopper?w=64`);
      expect([secure.status, ((await secure.json()) as { code: string }).code]).toEqual([404, 'UNKNOWN_TENANT']);
      expect((await fetch(`${host.url}/_admin/audit?limit=1`, { headers: LOCAL_ADMIN })).status).toBe(401);
    } finally {
      await host.stop();
    }
  });
});
