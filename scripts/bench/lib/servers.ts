/**
 * The servers the first-touch and hostile suites load, each a real process started the way
 * its users start it: the Node host as `npm start` runs it (scripts/build-node.mjs's bundle
 * under plain node: dist/node/main.js configured by its environment), the Deno host as
 * `npm run start:deno` runs it (scripts/build-deno.mjs's bundle under the deno binary), and
 * ipx 3 (sharp/libvips) bundled the same way as our Node host. Each gets a fresh store of its
 * own holding only the originals it is given, so nothing was decoded or rendered before.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { originalKey } from '../../../src/core/storage-keys.js';
import { createFsStore } from '../../../src/storage/fs-store.js';
import { REPO } from './corpus.js';
import { BENCH_RATE_LIMITS } from './rate-limits.js';

export type ServerKind = 'node' | 'deno' | 'ipx';
export type SourceFormat = 'jpeg' | 'png' | 'webp';

export const SERVER_NAMES: Record<ServerKind, string> = { node: 'Node host', deno: 'Deno host', ipx: 'ipx' };

/** One original to put in a server's store: tenant `demo`, this id. */
export interface SourceFile {
  id: string;
  path: string;
  format: SourceFormat;
}

export interface Server {
  kind: ServerKind;
  url: string;
  pid: number;
  /** Everything the process printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const EXT: Record<SourceFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };
const TYPE: Record<SourceFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
const TENANT = 'demo';
const SERVICE_CONFIG = { tenants: { [TENANT]: {} } };
const DENO_BIN = join(REPO, 'node_modules/@deno/linux-x64-glibc/deno');

/** What every request sends: a browser that takes WebP but not AVIF, so `auto` means WebP on every server. */
export const ACCEPT = 'image/webp,image/apng,image/*,*/*;q=0.8';

export type OutFormat = 'webp' | 'jpeg' | 'auto';

/** The URL of a cover variant on each server (q 75, the service's default quality). */
export function variantPath(kind: ServerKind, f: SourceFile, w: number, h: number, format: OutFormat): string {
  if (kind === 'ipx') return `/s_${w}x${h},fit_cover,f_${format},q_75/${f.id}.${EXT[f.format]}`;
  return `/${TENANT}/${f.id}?w=${w}&h=${h}&fit=cover&fmt=${format}&q=75`;
}

let nodeBundle: string | undefined;
/** Our Node host and ipx, bundled once per bench run under dist/ (where dist/node/main.js finds the repository). */
function nodeBundleDir(): string {
  if (!nodeBundle) {
    nodeBundle = join(REPO, 'dist/bench-hosts');
    execFileSync(process.execPath, [join(REPO, 'scripts/build-node.mjs'), '--outdir', nodeBundle, '--entry', 'ipx-host=scripts/bench/children/ipx-host.ts'], { cwd: REPO, stdio: 'inherit' });
  }
  return nodeBundle;
}

let denoBundle: string | undefined;
function denoBundleDir(): string {
  if (!denoBundle) {
    denoBundle = join(tmpdir(), `avatar-bench-deno-${process.pid}`);
    execFileSync(process.execPath, [join(REPO, 'scripts/build-deno.mjs'), '--outdir', denoBundle], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return denoBundle;
}

/** Removes the bundles built for this run. */
export async function removeBundles(): Promise<void> {
  if (nodeBundle) await rm(nodeBundle, { recursive: true, force: true });
  if (denoBundle) await rm(denoBundle, { recursive: true, force: true });
  nodeBundle = denoBundle = undefined;
}

/** A directory holding the originals as the server reads them: our store layout, or plain files for ipx. */
async function fillStore(kind: ServerKind, dir: string, files: readonly SourceFile[]): Promise<void> {
  if (kind === 'ipx') {
    for (const f of files) await copyFile(f.path, join(dir, `${f.id}.${EXT[f.format]}`));
    return;
  }
  const store = createFsStore(dir);
  for (const f of files) {
    await store.put(originalKey(TENANT, f.id), new Uint8Array(await readFile(f.path)), { contentType: TYPE[f.format], metadata: { version: '1' } });
  }
}

interface Spawned {
  proc: ChildProcess;
  output(): string;
  waitFor(re: RegExp, what: string, ms?: number): Promise<RegExpExecArray>;
}

function spawnServer(cmd: string, args: string[], env: NodeJS.ProcessEnv): Spawned {
  const proc = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  return {
    proc,
    output: () => out,
    waitFor: (re, what, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            done();
            resolve(m);
          }
        };
        const fail = (why: string) => {
          done();
          reject(new Error(`${what}: ${why}\n${out.slice(-4000)}`));
        };
        const onExit = (code: number | null) => fail(`exited with ${code} before it was ready`);
        const timer = setTimeout(() => fail(`not ready within ${ms / 1000} s`), ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          proc.off('exit', onExit);
        };
        proc.once('exit', onExit);
        waiters.add(check);
        check();
      }),
  };
}

/** Starts a server of this kind on a fresh store holding `files`, and waits until it can render. */
export async function startServer(kind: ServerKind, files: readonly SourceFile[]): Promise<Server> {
  const root = await mkdtemp(join(tmpdir(), `avatar-bench-${kind}-`));
  const store = join(root, 'store');
  await mkdir(store);
  await fillStore(kind, store, files);
  let s: Spawned;
  let url: string;
  if (kind === 'node') {
    const config = join(root, 'config.json');
    await writeFile(config, JSON.stringify(SERVICE_CONFIG));
    // As `npm start` runs it (package.json): a floor under the main isolate's old-generation limit.
    s = spawnServer(process.execPath, ['--initial-old-space-size=64', join(nodeBundleDir(), 'main.js')], {
      ...process.env,
      // As `npm start` sets them (package.json): glibc's malloc tuned for the render threads' buffers.
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
      MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? '131072',
      PORT: '0',
      HOST: '127.0.0.1',
      STORAGE: 'fs',
      DATA_DIR: store,
      AVATAR_CONFIG: config,
      RATE_LIMITS_JSON: BENCH_RATE_LIMITS,
    });
    // It listens once its codecs are warm.
    url = (await s.waitFor(/avatar-edge listening on (http:\/\/127\.0\.0\.1:\d+)/, 'Node host'))[1]!;
  } else if (kind === 'deno') {
    s = spawnServer(DENO_BIN, ['run', '--v8-flags=--expose-gc', '--no-prompt', '--allow-net', '--allow-env', '--allow-read', `--allow-write=${store}`, join(denoBundleDir(), 'main.js')], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      DENO_NO_UPDATE_CHECK: '1',
      NO_COLOR: '1',
      // As `npm run start:deno` sets them (scripts/start-deno.sh).
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
      MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? '131072',
      HOST: '127.0.0.1',
      PORT: '0',
      STORAGE: 'fs',
      DATA_DIR: store,
      AVATAR_CONFIG_JSON: JSON.stringify(SERVICE_CONFIG),
      RATE_LIMITS_JSON: BENCH_RATE_LIMITS,
    });
    url = (await s.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 'Deno host'))[1]!;
    // It serves at once and warms its codecs alongside: wait, so no request pays for that.
    await s.waitFor(/codecs ready/, 'Deno host codecs', 30_000).catch(() => {
      process.stderr.write('[bench] the Deno host did not print "codecs ready" within 30 s: its first requests may include the codec warm-up\n');
    });
  } else {
    s = spawnServer(process.execPath, [join(nodeBundleDir(), 'ipx-host.js'), store], { ...process.env });
    url = JSON.parse((await s.waitFor(/^\{.*\}$/m, 'ipx'))[0]).url as string;
  }
  const { proc } = s;
  return {
    kind,
    url,
    pid: proc.pid!,
    output: s.output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
