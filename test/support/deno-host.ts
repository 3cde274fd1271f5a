import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Runs the real Deno host: the esbuild bundle (scripts/build-deno.mjs, into a temp dir so a
 * developer's dist/deno is left alone) under the deno binary from @deno/linux-x64-glibc,
 * on 127.0.0.1 with port 0, and a clean environment (only what the test passes).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DENO_BIN = `${ROOT}node_modules/@deno/linux-x64-glibc/deno`;

export async function buildDenoBundle(): Promise<{ dir: string; entry: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'avatar-edge-deno-bundle-'));
  await promisify(execFile)(process.execPath, [`${ROOT}scripts/build-deno.mjs`, '--outdir', dir], { cwd: ROOT });
  return { dir, entry: join(dir, 'main.js'), remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface DenoHost {
  url: string;
  /** Everything the process printed so far (stdout + stderr), for failure messages. */
  output(): string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export interface DenoHostOptions {
  entry: string;
  env: Record<string, string>;
  /** Directories the host may write (the directory store's DATA_DIR). */
  writable?: string[];
}

function spawnDeno(opts: DenoHostOptions): ChildProcess {
  // As scripts/start-deno.sh runs it: render workers collect after a large decode (docs/deno.md).
  const args = ['run', '--v8-flags=--expose-gc', '--no-prompt', '--allow-net', '--allow-env', '--allow-read'];
  if (opts.writable?.length) args.push(`--allow-write=${opts.writable.join(',')}`);
  args.push(opts.entry);
  return spawn(DENO_BIN, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      // No upgrade check (it would reach the internet) and plain output to parse.
      DENO_NO_UPDATE_CHECK: '1',
      NO_COLOR: '1',
      HOST: '127.0.0.1',
      PORT: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a host that is expected to stop by itself (bad configuration); kills it after 30 s. */
export async function runDenoHostToExit(opts: DenoHostOptions): Promise<{ code: number | null; output: string }> {
  const child = spawnDeno(opts);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

export async function startDenoHost(opts: DenoHostOptions): Promise<DenoHost> {
  const child = spawnDeno(opts);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  let url: string;
  try {
    url = await waitUntilServing();
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  async function waitUntilServing(): Promise<string> {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`deno host did not start in 30 s:\n${out}`)), 30_000);
      child.stdout!.on('data', () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`deno host exited with ${code}:\n${out}`));
      });
    });
    // The listening line comes from onListen; /healthz proves the router answers too.
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return url;
      } catch (e) {
        if (i > 50) throw new Error(`deno host at ${url} never answered /healthz: ${(e as Error).message}\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    url,
    output: () => out,
    get: (path, headers = {}) => fetch(`${url}${path}`, { headers }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
