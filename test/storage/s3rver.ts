import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real S3-compatible server (s3rver 3.7) on 127.0.0.1, port 0, in a temp directory.
 *
 * It runs in a child process because s3rver builds ListObjectsV2 continuation tokens with
 * DES, which Node 20's OpenSSL 3 only offers with `--openssl-legacy-provider`: in-process,
 * every truncated list page would be a 500. The child also keeps Koa's globals out of vitest.
 *
 * s3rver checks that the access key id exists (only `S3RVER`, secret `S3RVER`) but does NOT
 * verify SigV4 signatures: a wrong secret with the right key id passes. Tests can prove an
 * unknown key id is refused (403 InvalidAccessKeyId), not that a bad signature is.
 */
export const S3RVER_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A test S3 server (s3rver here, MinIO in minio.ts): tests that take this shape run against either. */
export interface S3rverHandle {
  endpoint: string;
  port: number;
  /** The server process's id (it changes with restart()). */
  readonly pid: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL, as a crash or a pulled plug): in-flight requests get no answer; the data stays for restart(). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the data it had. */
  restart(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));

interface Running {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

async function spawnServer(dir: string, buckets: string[], port: number): Promise<Running> {
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, dir, ...buckets], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, S3RVER_PORT: String(port) },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const listening = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start in 20 s: ${stderr}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}: ${stderr}`));
    });
  });
  return { child, port: listening, exited };
}

export async function startS3rver(buckets: string[]): Promise<S3rverHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'avatar-edge-s3rver-'));
  let running: Running | null = await spawnServer(dir, buckets, 0);
  const port = running.port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    ...S3RVER_KEY,
    get pid() {
      return running?.child.pid ?? -1;
    },
    async stop() {
      if (running) {
        running.child.kill('SIGTERM');
        await running.exited;
        running = null;
      }
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      if (!running) return;
      process.kill(running.child.pid!, 'SIGKILL');
      await running.exited;
      running = null;
    },
    async restart() {
      if (running) throw new Error('s3rver is still running: kill() it first');
      running = await spawnServer(dir, buckets, port);
    },
  };
}
