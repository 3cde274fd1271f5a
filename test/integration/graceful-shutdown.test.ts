/**
 * SIGTERM on the real Node host process (src/hosts/node/main.ts under tsx): it stops accepting,
 * finishes the request in flight, and exits 0. The request is held open by its own client
 * (Expect: 100-continue, body sent only after the signal), so nothing depends on timing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_TOKEN = 'shutdown-test-admin-token-not-a-secret';

interface Host {
  child: ChildProcess;
  url: string;
  out(): string;
  exited: Promise<number | null>;
  waitFor(re: RegExp): Promise<RegExpExecArray>;
}

async function startHost(env: Record<string, string>): Promise<Host> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), HOST: '127.0.0.1', PORT: '0', AVATAR_CONFIG: '', RENDER_THREADS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) return resolve(m);
        if (child.exitCode !== null) return reject(new Error(`host exited (${child.exitCode}) before ${re}:\n${out}`));
        waiters.push(check);
      };
      void exited.then(() => check());
      check();
    });
  const url = (await waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  return { child, url, out: () => out, exited, waitFor };
}

describe('Node host shutdown', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-shutdown-'));
    dirs.push(dataDir);
    const host = await startHost({ DATA_DIR: dataDir, ADMIN_TOKEN, ACCESS_LOG: 'stdout' });
    try {
      expect((await fetch(`${host.url}/readyz`)).status).toBe(200);

      // A purge whose body the client holds back: the server has the request (it answered
      // 100 Continue) and is waiting for the body when the signal arrives.
      const body = JSON.stringify({ keys: ['i:demo/hopper'], reason: 'shutdown test' });
      const req = httpRequest(`${host.url}/_admin/purge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
      });
      const response = new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text, connection: res.headers.connection }));
        });
        req.on('error', reject);
      });
      await new Promise<void>((resolve) => req.once('continue', resolve));

      host.child.kill('SIGTERM');
      await host.waitFor(/SIGTERM: stopped accepting; draining 1 in-flight request/);
      // Not accepting any more: a new connection is refused.
      await expect(fetch(`${host.url}/healthz`)).rejects.toThrow();
      expect(host.child.exitCode).toBeNull();

      req.end(body);
      const res = await response;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ ok: true, purged: expect.any(Number) });

      expect(await host.exited).toBe(0);
      expect(host.out()).toMatch(/drained: exiting/);
      // The finished request was logged like any other.
      const line = host
        .out()
        .split('\n')
        .find((l) => l.includes('"/_admin/purge"'));
      expect(JSON.parse(line!)).toMatchObject({ route: 'admin', status: 200, method: 'POST' });
    } finally {
      if (host.child.exitCode === null) host.child.kill('SIGKILL');
    }
  }, 60_000);

  it('cuts off a request that outlives SHUTDOWN_DEADLINE_MS and exits 1', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-shutdown-'));
    dirs.push(dataDir);
    const host = await startHost({ DATA_DIR: dataDir, ADMIN_TOKEN, ACCESS_LOG: 'off', SHUTDOWN_DEADLINE_MS: '200' });
    try {
      const req = httpRequest(`${host.url}/_admin/purge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': '100', expect: '100-continue' },
      });
      const failed = new Promise<string>((resolve) => {
        req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
        req.on('response', (res) => resolve(`status ${res.statusCode}`));
      });
      await new Promise<void>((resolve) => req.once('continue', resolve));
      host.child.kill('SIGTERM');
      // The body never comes: the deadline closes the connection and the process says why.
      expect(await host.exited).toBe(1);
      expect(host.out()).toMatch(/shutdown deadline of 200 ms passed with 1 request\(s\) in flight/);
      expect(await failed).toMatch(/ECONNRESET|socket hang up/);
    } finally {
      if (host.child.exitCode === null) host.child.kill('SIGKILL');
    }
  }, 60_000);
});
