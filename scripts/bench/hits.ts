/**
 * Hits suite: a cached 128 px avatar from our Node host vs nginx serving the same bytes as a
 * static file (the practical ceiling on this machine), 32 connections, autocannon for both.
 */
import { spawn, execSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../lib/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from './lib/child.js';
import { type LoadResult, load } from './lib/load.js';
import type { SuiteReport } from './lib/report.js';
import { fmt, intFmt, kb, ratio } from './lib/stats.js';
import { signUrl } from '../../src/core/auth/index.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';

const CONNECTIONS = 32;
const PATH = '/demo/hopper?w=128&h=128&fmt=webp';

function ensureNginx(): string {
  const find = () => {
    try {
      return execSync('command -v nginx', { shell: '/bin/sh' }).toString().trim();
    } catch {
      return '';
    }
  };
  let bin = find() || (execSync('test -x /usr/sbin/nginx && echo /usr/sbin/nginx || true', { shell: '/bin/sh' }).toString().trim());
  if (bin) return bin;
  process.stderr.write('[bench] nginx missing: apt-get install nginx…\n');
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx', { stdio: 'ignore', shell: '/bin/sh' });
  bin = find() || '/usr/sbin/nginx';
  return bin;
}


async function withNginx<T>(body: Uint8Array, f: (url: string) => Promise<T>): Promise<T> {
  const bin = ensureNginx();
  const dir = await mkdtemp(join(tmpdir(), 'avatar-nginx-'));
  await mkdir(join(dir, 'www'));
  await writeFile(join(dir, 'www', 'avatar.webp'), body);
  const port = await freePort();
  const conf = `
worker_processes auto;
daemon off;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { image/webp webp; }
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location / { add_header Cache-Control "public, max-age=86400"; }
  }
}`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const proc = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/avatar.webp`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 100 || proc.exitCode !== null) throw new Error(`nginx did not start (see ${dir}/error.log)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return await f(url);
  } finally {
    proc.kill('SIGQUIT');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    await rm(dir, { recursive: true, force: true });
  }
}

async function withBareNode<T>(body: Uint8Array, f: (url: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'avatar-bare-'));
  await writeFile(join(dir, 'avatar.webp'), body);
  const child = await startChild('scripts/bench/children/bare-node.ts', [join(dir, 'avatar.webp')]);
  try {
    return await f(child.ready.url as string);
  } finally {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Our host in a fresh process: warm the variant, check it is a hit, then load it. */
async function measureOurs(path: string | ((url: string) => Promise<string>), duration: number, env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'avatar-bench-'));
  const ours = await startChild('scripts/bench/children/our-host.ts', [dataDir], env);
  try {
    const url = ours.ready.url as string;
    const p = typeof path === 'string' ? path : await path(url);
    const first = await fetch(url + p);
    if (!first.ok) throw new Error(`${p}: ${first.status} ${await first.text()}`);
    const body = new Uint8Array(await first.arrayBuffer());
    const second = await fetch(url + p);
    await second.arrayBuffer();
    if (second.headers.get('x-cache') !== 'HIT') throw new Error(`expected a cache hit, got x-cache ${second.headers.get('x-cache')}`);
    await load({ url, connections: CONNECTIONS, paths: [p], duration: 1 }); // warm-up
    return { body, result: await load({ url, connections: CONNECTIONS, paths: [p], duration }) };
  } finally {
    await ours.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const SIGNING_KEY = 'bench-signing-key-0123456789abcdef';

async function signedPath(): Promise<string> {
  const config = loadServiceConfig({ tenants: { demo: { requireSignature: true, keys: { bench: SIGNING_KEY } } } });
  const s = await signUrl({ tenant: config.tenants.get('demo')!, id: 'hopper', params: { w: 128, h: 128, fmt: 'webp' }, kid: 'bench', ttl: 86_400 });
  return s.url;
}

export async function runHits(opts: { quick: boolean }): Promise<SuiteReport> {
  const duration = opts.quick ? 5 : 10;
  const { body, result: oursResult } = await measureOurs(PATH, duration);
  const signed = await measureOurs(await signedPath(), duration, { BENCH_SIGNING_KEY: SIGNING_KEY });
  const nginx = await withNginx(body, async (url) => {
    await load({ url, connections: CONNECTIONS, paths: ['/avatar.webp'], duration: 1 });
    return load({ url, connections: CONNECTIONS, paths: ['/avatar.webp'], duration });
  });
  const bare = await withBareNode(body, async (url) => {
    await load({ url, connections: CONNECTIONS, paths: ['/avatar.webp'], duration: 1 });
    return load({ url, connections: CONNECTIONS, paths: ['/avatar.webp'], duration });
  });
  const half = oursResult.rps >= nginx.rps / 2;
  const row = (name: string, r: LoadResult) => [name, intFmt(r.rps), `${fmt(r.p50, 1)} ms`, `${fmt(r.p99, 1)} ms`, intFmt(r.requests), String(r.non2xx + r.errors)];
  return {
    id: 'hits',
    title: 'Hits: cached avatar vs nginx static file',
    method:
      `GET ${PATH} (${kb(body.byteLength)}, x-cache HIT) from our Node host (one process) vs nginx (worker_processes auto, sendfile, access log off) serving the same bytes as a file; ` +
      `autocannon, ${CONNECTIONS} connections, ${duration} s after a 1 s warm-up, both on 127.0.0.1 and sharing the 2 cores with autocannon. ` +
      'Also the same hit through a signed URL (tenant requiring signatures: one HMAC-SHA256 per request), and bare node:http writing the same bytes (the ceiling of any Node host here).',
    headlines: [
      { metric: 'cached avatar req/s', ours: intFmt(oursResult.rps), reference: intFmt(nginx.rps), referenceName: 'nginx', ratio: ratio(oursResult.rps, nginx.rps), target: '≥ 0.5×', met: half },
      { metric: 'cached avatar p99', ours: `${fmt(oursResult.p99, 1)} ms`, reference: `${fmt(nginx.p99, 1)} ms`, referenceName: 'nginx', ratio: ratio(oursResult.p99, nginx.p99), target: '< 5 ms', met: oursResult.p99 < 5 },
      { metric: 'cached avatar req/s vs bare node:http', ours: intFmt(oursResult.rps), reference: intFmt(bare.rps), referenceName: 'node:http writing the same bytes, no pipeline', ratio: ratio(oursResult.rps, bare.rps) },
      { metric: 'cached avatar, signed URL, req/s', ours: intFmt(signed.result.rps), reference: intFmt(nginx.rps), referenceName: 'nginx', ratio: ratio(signed.result.rps, nginx.rps) },
    ],
    tables: [
      {
        headers: ['server', 'req/s', 'p50', 'p99', 'requests', 'errors'],
        rows: [row('ours', oursResult), row('ours, signed URL', signed.result), row('bare node:http, same bytes', bare), row('nginx', nginx)],
      },
    ],
    notes: ['autocannon (one Node.js thread) is the client for both; on 2 cores it competes with the server for CPU, so neither figure is the server\'s ceiling, and latencies are whole milliseconds.'],
  };
}
