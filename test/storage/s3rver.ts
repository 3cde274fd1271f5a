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
  pid: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
  /** SIGKILL, no cleanup: for fault tests (the store vanishes mid-operation). `stop()` still removes the data. */
  kill(): void;
}

const CHILD = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));

export async function startS3rver(buckets: string[]): Promise<S3rverHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'avatar-edge-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, dir, ...buckets], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
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

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    ...S3RVER_KEY,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
    kill() {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    },
  };
}
