import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import { freePort } from '../../scripts/lib/free-port.js';
import type { S3rverHandle } from './s3rver.js';

/**
 * MinIO, a real S3 server that verifies SigV4 signatures (s3rver does not), on 127.0.0.1 with
 * a free port, a temp data directory and its own root user. Built by scripts/setup-minio.sh
 * (`go install`, into ~/go/bin). Locally, without the binary, the suites that use it are
 * skipped with a message; in CI (CI=true, where .ci/run builds it) they fail instead.
 */
export type MinioHandle = S3rverHandle;

/** Root credentials of every test server (MinIO wants a password of 8+ characters). */
export const MINIO_KEY = { accessKeyId: 'avatar-edge-test', secretAccessKey: 'avatar-edge-test-secret-0123456789' } as const;

function findMinio(): string | null {
  if (process.env.MINIO) return process.env.MINIO;
  for (const dir of [...(process.env.PATH ?? '').split(':'), join(homedir(), 'go/bin')]) {
    const p = join(dir, 'minio');
    if (dir && existsSync(p)) return p;
  }
  return null;
}

export const MINIO_BIN = findMinio();
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
/** Whether suites that need MinIO run: always in CI (where a missing binary then fails), locally only with the binary. */
export const RUN_MINIO = MINIO_BIN !== null || IN_CI;

/** Warns once per test file that its MinIO suites are skipped (only when they are). */
export function warnIfMinioSkipped(file: string): void {
  if (!RUN_MINIO) console.warn(`${file}: MinIO suites skipped: no minio binary (scripts/setup-minio.sh builds it into ~/go/bin, or set MINIO); CI runs them.`);
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

function spawnMinio(bin: string, dir: string, port: number): Running {
  const child: ChildProcess = spawn(bin, ['server', dir, '--address', `127.0.0.1:${port}`, '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      MINIO_ROOT_USER: MINIO_KEY.accessKeyId,
      MINIO_ROOT_PASSWORD: MINIO_KEY.secretAccessKey,
      // No web console (it would take a second port) and no calls home.
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      MINIO_CI_CD: '1',
    },
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, log: () => log };
}

/** Waits for the server to answer, then creates `buckets` (none on a restart: the data dir has them). */
async function whenReady(run: Running, endpoint: string, buckets: string[]): Promise<void> {
  // A fresh data directory is formatted on start: a second or two, more on a busy box.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (run.child.exitCode !== null) throw new Error(`minio exited with ${run.child.exitCode}:\n${run.log()}`);
    try {
      if ((await fetch(`${endpoint}/minio/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`minio did not become ready in 60 s:\n${run.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const signer = new AwsClient({ ...MINIO_KEY, service: 's3', region: 'us-east-1', retries: 0 });
  // "Ready" can come a moment before the object layer is: 503 XMinioServerNotInitialized, try again.
  const untilInitialized = async (url: string, method: string): Promise<Response> => {
    for (;;) {
      const res = await signer.fetch(url, { method });
      if (res.status !== 503 || Date.now() > deadline) return res;
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (const bucket of buckets) {
    const res = await untilInitialized(`${endpoint}/${bucket}`, 'PUT');
    const text = await res.text();
    if (!res.ok) throw new Error(`minio: creating bucket ${bucket} failed: ${res.status} ${text}`);
  }
  // On a restart: the object layer answers, not just the health check.
  if (buckets.length === 0) await (await untilInitialized(`${endpoint}/`, 'GET')).body?.cancel();
}

export async function startMinio(buckets: string[]): Promise<MinioHandle> {
  const bin = MINIO_BIN;
  if (!bin) throw new Error('CI is set but minio is not installed: run scripts/setup-minio.sh first');
  const dir = await mkdtemp(join(tmpdir(), 'avatar-edge-minio-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let running: Running | null = spawnMinio(bin, dir, port);

  const halt = async (signal: NodeJS.Signals) => {
    const run = running;
    if (!run) return;
    running = null;
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill(signal);
      await run.exited;
    }
  };
  const stop = async () => {
    await halt('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await whenReady(running, endpoint, buckets);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoint,
    port,
    get pid() {
      return running?.child.pid ?? -1;
    },
    ...MINIO_KEY,
    stop,
    kill: () => halt('SIGKILL'),
    async restart() {
      if (running) throw new Error('minio is still running: kill() it first');
      const run = spawnMinio(bin, dir, port);
      running = run;
      await whenReady(run, endpoint, []);
    },
  };
}
