/**
 * Hits suite: a cached 128 px avatar from our Node host vs nginx serving the same bytes as a
 * static file (the practical ceiling on this machine): throughput at saturation (autocannon,
 * 32 connections), and latency and the server's CPU time per request at one fixed offered rate
 * for every server (lib/paced-load.ts, lib/proc.ts).
 */
import { execFileSync, spawn, execSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../lib/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from './lib/child.js';
import { REPO } from './lib/corpus.js';
import { type LoadResult, load } from './lib/load.js';
import { mergePaced, type PacedResult, pacedLoad } from './lib/paced-load.js';
import type { SuiteReport } from './lib/report.js';
import { mainThreadCpuMsOf, treeCpuMsOf } from './lib/proc.js';
import { fmt, intFmt, kb, ms, ratio } from './lib/stats.js';
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
  let bin = find() || execSync('test -x /usr/sbin/nginx && echo /usr/sbin/nginx || true', { shell: '/bin/sh' }).toString().trim();
  if (bin) return bin;
  process.stderr.write('[bench] nginx missing: apt-get install nginx…\n');
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx', {
    stdio: 'ignore',
    shell: '/bin/sh',
  });
  bin = find() || '/usr/sbin/nginx';
  return bin;
}

async function withNginx<T>(body: Uint8Array, f: (url: string, pid: number) => Promise<T>): Promise<T> {
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
    return await f(url, proc.pid!);
  } finally {
    proc.kill('SIGQUIT');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    await rm(dir, { recursive: true, force: true });
  }
}

async function withBareNode<T>(body: Uint8Array, f: (url: string, pid: number) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'avatar-bare-'));
  await writeFile(join(dir, 'avatar.webp'), body);
  const child = await startChild('scripts/bench/children/bare-node.ts', [join(dir, 'avatar.webp')]);
  try {
    return await f(child.ready.url as string, child.proc.pid!);
  } finally {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The host as `npm start` runs it: bundled by scripts/build-node.mjs and run with plain node
 * (render threads from the bundle too), not through tsx. Under tsx the same hit costs ~15%
 * more main-thread CPU (80 vs 95 µs at 5,000 req/s here) and every tsx-loaded render thread
 * wakes V8's worker threads several times a second while idle; neither is the product's.
 * Under dist/ so that it finds node_modules and the repository root as dist/node/main.js does.
 */
let ourHostBundle: string | undefined;
function bundledOurHost(): string {
  if (!ourHostBundle) {
    const outdir = join(REPO, 'dist/bench-hits');
    execFileSync(process.execPath, [join(REPO, 'scripts/build-node.mjs'), '--outdir', outdir, '--entry', 'our-host=scripts/bench/children/our-host.ts'], { cwd: REPO, stdio: 'inherit' });
    ourHostBundle = join(outdir, 'our-host.js');
  }
  return ourHostBundle;
}

/** Our host in a fresh process: warm the variant, check it is a hit, then measure it. */
async function withOurs<T>(path: string | ((url: string) => Promise<string>), env: Record<string, string>, f: (url: string, path: string, body: Uint8Array, pid: number) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'avatar-bench-'));
  const ours = await startChild(bundledOurHost(), [dataDir], env);
  try {
    const url = ours.ready.url as string;
    const p = typeof path === 'string' ? path : await path(url);
    const first = await fetch(url + p);
    if (!first.ok) throw new Error(`${p}: ${first.status} ${await first.text()}`);
    const body = new Uint8Array(await first.arrayBuffer());
    const second = await fetch(url + p);
    await second.arrayBuffer();
    if (second.headers.get('x-cache') !== 'HIT') throw new Error(`expected a cache hit, got x-cache ${second.headers.get('x-cache')}`);
    return await f(url, p, body, ours.proc.pid!);
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

/**
 * The fixed offered rate for every server: below each one's saturation (the signed URL's
 * included) on this machine, about 0.4× nginx's. A number, not a fraction of nginx's figure
 * in the run: that moves with the machine's noise (12,000–20,000 req/s), and near a server's
 * capacity the p99 is queueing again.
 */
const FIXED_RATE = 5000;

interface Server {
  name: string;
  url: string;
  path: string;
  /** The server's process (nginx: its master; its workers are counted as its children). */
  pid: number;
}

/** CPU time the server used during its fixed-rate runs (warm-ups included), and the requests it answered meanwhile. */
interface CpuUse {
  /** The process, all its threads, and its child processes (nginx's workers), ms. */
  totalMs: number;
  /** The main thread alone (a Node server's event loop), ms. */
  mainMs: number;
  answered: number;
}

interface Measured {
  saturation: LoadResult;
  fixed: PacedResult;
  cpu: CpuUse;
}

/** µs of CPU per request answered. */
const perRequestUs = (cpuMs: number, answered: number): number => (cpuMs * 1000) / answered;

/**
 * Saturation: each server alone, in turn, after a 1 s warm-up. Fixed rate: `rounds` rounds,
 * each giving every server duration / rounds seconds in a rotating order (reversed every other
 * round), merged per server,
 * so a noisy spell on the shared machine lands on all of them rather than on one.
 */
async function measureAll(servers: Server[], duration: number, rounds: number): Promise<Map<string, Measured>> {
  const saturation = new Map<string, LoadResult>();
  for (const s of servers) {
    await load({ url: s.url, connections: CONNECTIONS, paths: [s.path], duration: 1 });
    saturation.set(s.name, await load({ url: s.url, connections: CONNECTIONS, paths: [s.path], duration }));
  }
  const runs = new Map<string, PacedResult[]>(servers.map((s) => [s.name, []]));
  const cpu = new Map<string, CpuUse>(servers.map((s) => [s.name, { totalMs: 0, mainMs: 0, answered: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < servers.length; i++) {
      // Rotated each round, and reversed every other round, so no server always follows the same one.
      const at = (i + round) % servers.length;
      const s = servers[round % 2 ? servers.length - 1 - at : at]!;
      // CPU read from /proc before and after the run (the load generator is another process):
      // what the server spent, whether or not it had to wait for a core meanwhile.
      const [total0, main0] = [treeCpuMsOf(s.pid), mainThreadCpuMsOf(s.pid)];
      // The warm-up: a server that sat idle while the others were measured starts cold.
      const run = await pacedLoad({ url: s.url, path: s.path, rate: FIXED_RATE, duration: duration / rounds, warmup: 0.5, connections: CONNECTIONS });
      const c = cpu.get(s.name)!;
      c.totalMs += treeCpuMsOf(s.pid) - total0;
      c.mainMs += mainThreadCpuMsOf(s.pid) - main0;
      c.answered += run.answered;
      runs.get(s.name)!.push(run);
    }
  }
  return new Map(servers.map((s) => [s.name, { saturation: saturation.get(s.name)!, fixed: mergePaced(runs.get(s.name)!), cpu: cpu.get(s.name)! }]));
}

export async function runHits(opts: { quick: boolean }): Promise<SuiteReport> {
  const duration = opts.quick ? 5 : 10;
  const rounds = 5;
  // All four up at once (idle ones cost nothing), so the fixed-rate rounds can interleave.
  const { body, results } = await withOurs(PATH, {}, (oursUrl, oursPath, body, oursPid) =>
    withOurs(
      () => signedPath(),
      { BENCH_SIGNING_KEY: SIGNING_KEY },
      (signedUrl, signedPath, _signedBody, signedPid) =>
        withNginx(body, (nginxUrl, nginxPid) =>
          withBareNode(body, async (bareUrl, barePid) => ({
            body,
            results: await measureAll(
              [
                { name: 'nginx', url: nginxUrl, path: '/avatar.webp', pid: nginxPid },
                { name: 'ours', url: oursUrl, path: oursPath, pid: oursPid },
                { name: 'signed', url: signedUrl, path: signedPath, pid: signedPid },
                { name: 'bare', url: bareUrl, path: '/avatar.webp', pid: barePid },
              ],
              duration,
              rounds,
            ),
          })),
        ),
    ),
  );
  const [nginx, ours, signed, bare] = ['nginx', 'ours', 'signed', 'bare'].map((n) => results.get(n)!) as [Measured, Measured, Measured, Measured];
  const cpuUs = (m: Measured) => perRequestUs(m.cpu.totalMs, m.cpu.answered);
  const mainUs = (m: Measured) => perRequestUs(m.cpu.mainMs, m.cpu.answered);
  const rate = FIXED_RATE;
  const sat = (m: Measured) => m.saturation;
  const fixedP99 = (m: Measured) => m.fixed.p99;
  const satRow = (name: string, r: LoadResult) => [name, intFmt(r.rps), `${fmt(r.p50, 1)} ms`, `${fmt(r.p99, 1)} ms`, intFmt(r.requests), String(r.non2xx + r.errors)];
  const fixedRow = (name: string, m: Measured, mainThread = true) => {
    const r = m.fixed;
    return [name, intFmt(r.rps), ms(r.p50), ms(r.p99), ms(r.p999), ms(r.max), intFmt(r.completed), String(r.non2xx + r.errors), `${fmt(cpuUs(m), 0)} µs`, mainThread ? `${fmt(mainUs(m), 0)} µs` : '–'];
  };
  const atRate = `at ${intFmt(rate)} req/s`;
  return {
    id: 'hits',
    title: 'Hits: cached avatar vs nginx static file',
    method:
      `GET ${PATH} (${kb(body.byteLength)}, x-cache HIT) from our Node host (one process, bundled and run with plain node as npm start runs it) vs nginx (worker_processes auto, sendfile, access log off) serving the same bytes as a file, ` +
      'all on 127.0.0.1 and sharing the 2 cores with the load generator, each server in its own process, all four started before measuring. ' +
      `Saturation: autocannon, ${CONNECTIONS} connections, ${duration} s per server after a 1 s warm-up (closed loop: each connection sends its next request when the answer arrives). ` +
      `Fixed rate: then ${duration} s of open-loop load per server at ${intFmt(rate)} req/s, the same for all (about 0.4× nginx's saturation here, below every server's), in ${rounds} interleaved rounds of ${duration / rounds} s, each after 0.5 s unrecorded at the same rate, ` +
      `over ${CONNECTIONS} keep-alive connections from a fresh process per run (scripts/bench/lib/paced-load.ts: requests released on a 1 ms timer; latency from the send, or from the due time when no connection was free, to the last byte; fractional ms). ` +
      'Also the same hit through a signed URL (tenant requiring signatures: one HMAC-SHA256 per request), and bare node:http writing the same bytes (the ceiling of any Node host here). ' +
      'CPU per request: utime + stime of the server process (all its threads; for nginx its worker processes too) from /proc/<pid>/stat before and after each fixed-rate run, summed over the rounds and divided by the requests it answered in them (warm-ups included); the main thread alone from /proc/<pid>/task/<pid>/stat. ' +
      'CPU time a server spends does not grow when it waits for a core, so it compares servers on a noisy machine where req/s moves 2–3× between runs.',
    headlines: [
      {
        metric: 'cached avatar req/s (saturation)',
        ours: intFmt(sat(ours).rps),
        reference: intFmt(sat(nginx).rps),
        referenceName: 'nginx',
        ratio: ratio(sat(ours).rps, sat(nginx).rps),
        target: '≥ 0.5×',
        met: sat(ours).rps >= sat(nginx).rps / 2,
      },
      {
        metric: `cached avatar p99 ${atRate}`,
        ours: ms(fixedP99(ours)),
        reference: ms(fixedP99(nginx)),
        referenceName: `nginx ${atRate}`,
        ratio: ratio(fixedP99(ours), fixedP99(nginx)),
        target: '< 5 ms',
        met: fixedP99(ours) < 5 && ours.fixed.errors + ours.fixed.non2xx === 0,
      },
      {
        metric: 'cached avatar p99 at saturation',
        ours: `${fmt(sat(ours).p99, 1)} ms`,
        reference: `${fmt(sat(nginx).p99, 1)} ms`,
        referenceName: `nginx, ${CONNECTIONS} connections`,
        ratio: ratio(sat(ours).p99, sat(nginx).p99),
      },
      {
        metric: `CPU per cached hit ${atRate} (server process, all threads)`,
        ours: `${fmt(cpuUs(ours), 0)} µs`,
        reference: `${fmt(cpuUs(bare), 0)} µs`,
        referenceName: 'node:http writing the same bytes, no pipeline',
        ratio: ratio(cpuUs(ours), cpuUs(bare)),
      },
      {
        metric: 'cached avatar req/s vs bare node:http',
        ours: intFmt(sat(ours).rps),
        reference: intFmt(sat(bare).rps),
        referenceName: 'node:http writing the same bytes, no pipeline',
        ratio: ratio(sat(ours).rps, sat(bare).rps),
      },
      {
        metric: 'cached avatar, signed URL, req/s (saturation)',
        ours: intFmt(sat(signed).rps),
        reference: intFmt(sat(nginx).rps),
        referenceName: 'nginx',
        ratio: ratio(sat(signed).rps, sat(nginx).rps),
      },
      {
        metric: `cached avatar, signed URL, p99 ${atRate}`,
        ours: ms(fixedP99(signed)),
        reference: ms(fixedP99(nginx)),
        referenceName: `nginx ${atRate}`,
        ratio: ratio(fixedP99(signed), fixedP99(nginx)),
      },
    ],
    tables: [
      {
        caption: `Saturation (autocannon, ${CONNECTIONS} connections; latencies in whole ms, as autocannon reports them):`,
        headers: ['server', 'req/s', 'p50', 'p99', 'requests', 'errors'],
        rows: [satRow('ours', sat(ours)), satRow('ours, signed URL', sat(signed)), satRow('bare node:http, same bytes', sat(bare)), satRow('nginx', sat(nginx))],
      },
      {
        caption: `Fixed rate, ${intFmt(rate)} req/s offered to each (CPU: server time per request answered):`,
        headers: ['server', 'req/s served', 'p50', 'p99', 'p99.9', 'max', 'requests', 'errors', 'CPU/request', 'main thread'],
        rows: [fixedRow('ours', ours), fixedRow('ours, signed URL', signed), fixedRow('bare node:http, same bytes', bare), fixedRow('nginx (master + workers)', nginx, false)],
      },
    ],
    notes: [
      "The < 5 ms target is judged on the fixed-rate p99. At saturation a closed-loop client measures queue depth, not the server: with 32 connections always busy the mean latency is 32 ÷ req/s whatever a request costs (2.6 ms for nginx at 12,000 req/s), and on 2 cores autocannon takes CPU from the server it waits for. One offered rate below every server's capacity, the same for all, measures what a hit costs and how often the server stalls; the saturation p99 stays above, as the throughput figure it is.",
      "What the fixed-rate tail is made of here: the load generator runs in a fresh process per run (lib/paced-load.ts). Run inside the bench's own process it paused for full collections of everything the suite had kept (16 mark-compacts of up to 8 ms in 20 s of rounds), and every pause reached the server being measured as a latency spike: that was most of the 5–15 ms episodes, for every server (before: ours 9.3 ms, bare node:http 6.4, nginx 3.5; after: 2.1, 1.1, 0.6 in back-to-back runs). What remains in our host: its event-loop gaps over 3 ms (1 ms ticker and /proc schedstat in the host) are the main thread runnable but waiting for a core, plus the backlog that builds meanwhile, which takes about twice bare node:http's CPU per request to drain. GC overlaps almost none of them, the idle render threads and V8's helper threads use under 1% of a core at this rate, the host runs no timers, and after the warm-up V8 (re)optimises a few dozen functions and deoptimises three once each in a 5 s run (--trace-opt, --trace-deopt), nothing recurring.",
      'The machine is shared: other processes and the load generator run on the same 2 cores, so single runs of either p99 move by milliseconds; compare the ratios within one run.',
      "The Node host's HTTP layer is @hono/node-server's request listener (src/hosts/node/http-adapter.ts), chosen with this suite over our own Request/Response layer (a BodilessRequest and a BytesResponse installed as the global Response, since deleted). Both served the same app, wiring and warm-up side by side, and CPU per cached hit at 5,000 req/s was ours 116, 110, 122, 117, 112 µs vs @hono/node-server 2.1.9 128, 124, 121, 121, 114 µs in five runs (ours ÷ adapter 0.91, 0.89, 1.00, 0.97, 0.98×; bare node:http 56–58 µs, nginx 27–30 µs). Our layer in both slots (an A/A run) gave 0.87× and 0.99×, and a run while other work loaded the machine gave ours 173 vs 114 µs (1.51×): the two cost the same within the noise, so the host uses the maintained adapter. CPU time, unlike req/s, does not grow while a server waits for a core, but a busier machine still makes every request dearer (caches, steal), so compare it within one run.",
    ],
  };
}
