/**
 * `npm run bench -- --only=fastly-cpu`: vCPU per request of the Fastly service under Viceroy,
 * read from its own `Server-Timing: cpu;dur=` for a cached HIT, a signed HIT and a MISS, next
 * to a minimal js-compute handler built and run in the same bench that answers 4 KiB from
 * memory. Both reuse sandboxes with the same bounds (FASTLY_SANDBOX_*, sandbox-reuse.ts) and
 * both report vCpuTime() at the end of the request minus at its start, since in a reused
 * sandbox vCpuTime() counts from the sandbox's start (docs/fastly.md, "CPU per request").
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/free-port.js';
import { signUrl } from '../../src/core/auth/index.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { type SandboxOptions, sandboxOptions } from '../../src/hosts/fastly/sandbox-reuse.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { REPO } from './lib/corpus.js';
import type { SuiteReport } from './lib/report.js';

const SECRET = 'bench-render-secret-0123456789abcdefgh';
const KEY = 'bench-signing-key-0123456789abcdef';
/** Targets of the issue this bench answers (edge CPU per hit). */
const TARGET_HIT_MS = 1.5;
const TARGET_SIGNED_MS = 2;
/** The headline kinds: name, kind, target. */
const HIT_KINDS = [
  ['cached HIT', 'hit', TARGET_HIT_MS],
  ['signed HIT (HMAC verified first)', 'signed', TARGET_SIGNED_MS],
] as const;

/** Reference 1: same sandbox reuse as the service, 4 KiB from memory, nothing else. */
const minimalHandler = (options: SandboxOptions) => `
import { vCpuTime } from 'fastly:compute';
import { setReusableSandboxOptions } from 'fastly:experimental';
setReusableSandboxOptions(${JSON.stringify(options)});
const body = new Uint8Array(4096).fill(7);
let served = 0;
addEventListener('fetch', (event) => {
  const c0 = vCpuTime();
  const t0 = performance.now();
  served++;
  event.respondWith(new Response(body, { headers: { 'content-type': 'image/webp', 'server-timing': 'n;desc=' + served + ', wall;dur=' + (performance.now() - t0).toFixed(3) + ', cpu;dur=' + (vCpuTime() - c0) } }));
});
`;

/**
 * Reference 2: the host calls of our HIT and nothing else, made the way the service makes them:
 * the request's URL and the headers it reads, the client's address and the rate-limit check
 * (Edge Rate Limiting, on by default), one Core Cache transaction lookup of a stored 4 KiB body
 * with JSON metadata whose body is handed to the Response as Core Cache's stream (core-cache.ts),
 * a Response with the service's header set, and one JSON line of the same size to the same log
 * endpoint, after the figure the answer carries.
 */
const sameHostcallsHandler = (options: SandboxOptions) => `
import { vCpuTime } from 'fastly:compute';
import { CoreCache } from 'fastly:cache';
import { EdgeRateLimiter, PenaltyBox, RateCounter } from 'fastly:edge-rate-limiter';
import { Logger } from 'fastly:logger';
import { setReusableSandboxOptions } from 'fastly:experimental';
setReusableSandboxOptions(${JSON.stringify(options)});
let served = 0;
let logger;
const META = { status: 200, contentType: 'image/webp', etag: '"0123456789abcdef0123"', surrogateKeys: ['demo', 'demo/hopper', 'demo/hopper/64x64-cover-q75.webp'], source: 'render', swr: 86400000 };
async function answer(event, c0, t0) {
  const request = event.request;
  const url = request.url;
  const read = [request.headers.get('accept'), request.headers.get('referer'), request.headers.get('origin'), request.headers.get('if-none-match'), request.headers.get('x-request-id')];
  const box = new PenaltyBox('avatar_edge_clients_pb');
  const entry0 = 'demo|' + event.client.address;
  if (box.has(entry0) || new EdgeRateLimiter(new RateCounter('avatar_edge_clients'), box).checkRate(entry0, 1, 10, 100, 1)) throw new Error('limited');
  const entry = CoreCache.transactionLookup('avatar-edge:1:bench/ref/64x64-cover-q75.webp');
  const state = entry.state();
  let meta;
  let body;
  let length;
  if (state.found() && state.usable()) {
    length = entry.length();
    meta = JSON.parse(new TextDecoder().decode(entry.userMetadata()));
    body = entry.body();
    entry.close();
  } else {
    meta = META;
    body = new Uint8Array(4096).fill(7);
    length = body.byteLength;
    const w = entry.insert({ maxAge: 3600000, staleWhileRevalidate: 86400000, surrogateKeys: META.surrogateKeys, length, userMetadata: JSON.stringify(META) });
    w.append(body);
    w.close();
    entry.close();
  }
  const headers = {
    'content-type': meta.contentType,
    'cache-control': 'public, max-age=86400, stale-while-revalidate=604800',
    etag: meta.etag,
    'surrogate-key': meta.surrogateKeys.join(' '),
    'x-cache': 'HIT',
    'x-variant': 'demo/hopper/64x64-cover-q75.webp',
    'x-content-type-options': 'nosniff',
    vary: 'Accept',
    'content-length': String(length),
  };
  headers['server-timing'] = 'n;desc=' + served + ', cache;desc="HIT", wall;dur=' + (performance.now() - t0).toFixed(3) + ', cpu;dur=' + (vCpuTime() - c0);
  return new Response(body, { headers, manualFramingHeaders: true });
}
addEventListener('fetch', (event) => {
  const c0 = vCpuTime();
  const t0 = performance.now();
  const time = new Date().toISOString();
  served++;
  event.respondWith(answer(event, c0, t0).then((res) => {
    const line = { time, requestId: crypto.randomUUID(), method: 'GET', url: '/demo/hopper?w=64&h=64', route: 'image', status: 200, tenant: 'demo', id: 'hopper', variant: 'demo/hopper/64x64-cover-q75.webp', cache: 'HIT', bytes: 4096, durationMs: Math.round((performance.now() - t0) * 100) / 100, timings: {}, dropped: [], pop: 'XXX' };
    line.cpu = vCpuTime() - c0;
    logger ??= new Logger('avatar_edge_log');
    logger.log(JSON.stringify(line));
    return res;
  }));
});
`;

function viceroyBin(): string {
  const p = process.env.VICEROY ?? join(homedir(), '.cargo/bin/viceroy');
  if (!existsSync(p)) throw new Error('viceroy not found: scripts/setup-viceroy.sh');
  return p;
}

interface Served {
  base: string;
  proc: ChildProcess;
  /** Everything Viceroy printed so far (the log endpoint's lines among it). */
  out: () => string;
}

async function serve(wasm: string, toml: string): Promise<Served> {
  const port = await freePort();
  const proc = spawn(viceroyBin(), ['-C', toml, wasm, '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => void (text += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      await (await fetch(`${base}/healthz`)).arrayBuffer();
      return { base, proc, out: () => text };
    } catch {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error('viceroy did not start');
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** What one answer's Server-Timing says: vCPU to the answer (whole ms), and the handler's performance.now() span when it gives one. */
interface Sample {
  cpu: number;
  wall?: number;
}

async function sampleOf(url: string): Promise<Sample> {
  const r = await fetch(url, { headers: { accept: 'image/webp' } });
  const text = new TextDecoder().decode(await r.arrayBuffer());
  const timing = r.headers.get('server-timing') ?? '';
  const m = timing.match(/cpu;dur=([\d.]+)/);
  if (!m || !r.ok) throw new Error(`${url}: ${r.status} without a cpu timing: ${text.slice(0, 200)}`);
  const w = timing.match(/wall;dur=([\d.]+)/);
  return { cpu: Number(m[1]), ...(w ? { wall: Number(w[1]) } : {}) };
}

/** The `cpu` of every log line a process printed for the image route, in order (one per request, sequential requests). */
function loggedCpu(out: string): number[] {
  const cpus: number[] = [];
  for (const l of out.split('\n')) {
    const at = l.indexOf('{');
    if (!l.includes('avatar_edge_log') || at < 0) continue;
    const line = JSON.parse(l.slice(at)) as { route?: string; cpu?: number };
    if (line.route === 'image' && typeof line.cpu === 'number') cpus.push(line.cpu);
  }
  return cpus;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
/** Half-width of the mean's 95 % interval. */
const ci = (a: number[]) => {
  const m = mean(a);
  return (1.96 * Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / Math.max(1, a.length - 1))) / Math.sqrt(a.length);
};
const f2 = (x: number) => x.toFixed(2);
// Viceroy's vCpuTime() counts whole ms (it keeps µs and divides), so one request's difference of two readings is 0, 1 or 2 ms for the same work; over many requests the mean is the sub-ms figure.
const cpuCell = (a: number[]) => `${f2(mean(a))} ± ${f2(ci(a))} ms (median ${median(a)}, n ${a.length})`;
const meanCell = (a: number[]) => (a.length ? `${f2(mean(a))} ± ${f2(ci(a))} ms` : 'n/a');
/** ours − reference, with the 95 % interval of the difference of two means. */
const diffCell = (a: number[], b: number[]) => `${f2(mean(a) - mean(b))} ± ${f2(Math.sqrt(ci(a) ** 2 + ci(b) ** 2))} ms`;

/** Viceroy 0.22 gives a sandbox its first request and then at most 5 more (NEXT_REQ_ACCEPT_MAX), whatever the service asks for. */
const VICEROY_REQUESTS_PER_SANDBOX = 6;
/** A sandbox waiting longer than this for its next request ends (Viceroy's NEXT_REQ_TIMEOUT and FASTLY_SANDBOX_IDLE_MS are both 10 s). */
const SANDBOX_IDLE_END_MS = 11_000;

/** Sends requests to one Viceroy process and knows which of them a fresh sandbox answered (every 6th, counted from an idle start). */
function counter(): { next: () => boolean } {
  let k = 0;
  return { next: () => k++ % VICEROY_REQUESTS_PER_SANDBOX === 0 };
}

export async function runFastlyCpu({ quick }: { quick: boolean }): Promise<SuiteReport> {
  const n = quick ? 48 : 300;
  const dir = await mkdtemp(join(tmpdir(), 'avatar-edge-bench-fastly-'));
  const procs: ChildProcess[] = [];
  const renderer = await startNodeApp({ config: loadServiceConfig({ tenants: { demo: {}, secure: {} } }), dataDir: join(dir, 'data'), renderSecrets: [SECRET], log: () => {} });
  try {
    const wasm = join(dir, 'main.wasm');
    execFileSync(process.execPath, [join(REPO, 'scripts/build-fastly.mjs'), '--out', wasm], { cwd: REPO, stdio: 'pipe' });
    const cli = join(REPO, 'node_modules/@fastly/js-compute/dist/cli/js-compute-runtime-cli.js');
    const refWasm = async (name: string, source: string) => {
      await writeFile(join(dir, `${name}.js`), source);
      execFileSync(process.execPath, [cli, join(dir, `${name}.js`), join(dir, `${name}.wasm`)], { cwd: REPO, stdio: 'pipe' });
      return join(dir, `${name}.wasm`);
    };
    const options = sandboxOptions(process.env);
    const minimalWasm = await refWasm('minimal', minimalHandler(options));
    const sameWasm = await refWasm('same-hostcalls', sameHostcallsHandler(options));

    const real = await readFile(join(REPO, 'fastly.toml'), 'utf8');
    const head = real.slice(0, real.search(/^\[local_server/m));
    const toml = join(dir, 'fastly.toml');
    await writeFile(
      toml,
      `${head}
[local_server.backends.renderer]
url = "${renderer.url}"
[local_server.config_stores.avatar_edge_config]
format = "inline-toml"
[local_server.config_stores.avatar_edge_config.contents]
AVATAR_CONFIG_JSON = '${JSON.stringify({ tenants: { demo: {}, secure: { requireSignature: true } } })}'
[local_server.secret_stores]
avatar_edge_secrets = [
  { key = "RENDER_SECRET", data = "${SECRET}" },
  { key = "TENANT_KEYS_JSON", data = '{"secure":{"k1":"${KEY}"}}' },
]
`,
    );
    const service = await serve(wasm, toml);
    procs.push(service.proc);
    const minimal = await serve(minimalWasm, toml);
    procs.push(minimal.proc);
    const same = await serve(sameWasm, toml);
    procs.push(same.proc);

    const tenant = loadServiceConfig({ tenants: { secure: { requireSignature: true, keys: { k1: KEY } } } }).tenants.get('secure')!;
    const signed = service.base + (await signUrl({ tenant, id: 'hopper', params: { w: 64, h: 64, fmt: 'webp' }, kid: 'k1' })).url;
    const hitUrl = `${service.base}/demo/hopper?w=64&h=64`;
    // Fill the caches (and render the signed variant), then let every sandbox end, so each process's next request starts a fresh one and the count of requests says which ones do.
    await sampleOf(hitUrl);
    await sampleOf(signed);
    await sampleOf(`${same.base}/`);
    await new Promise((r) => setTimeout(r, SANDBOX_IDLE_END_MS));
    const svc = counter();
    const ref1 = counter();
    const ref2 = counter();
    type Kind = 'miss' | 'hit' | 'signed' | 'minimal' | 'same';
    const warm: Record<Kind, Sample[]> = { miss: [], hit: [], signed: [], minimal: [], same: [] };
    const cold: Record<Kind, Sample[]> = { miss: [], hit: [], signed: [], minimal: [], same: [] };
    /** Per service request, in order: its kind and whether a fresh sandbox answered it (to pair with the log lines). */
    const serviceOrder: { kind: Kind; fresh: boolean }[] = [];
    const sameOrder: boolean[] = [];
    const take = async (kind: Kind, url: string, c: { next: () => boolean }) => {
      const fresh = c.next();
      const s = await sampleOf(url);
      (fresh ? cold : warm)[kind].push(s);
      if (c === svc) serviceOrder.push({ kind, fresh });
      if (c === ref2) sameOrder.push(fresh);
    };
    for (let i = 0; i < Math.min(n, 12); i++) await take('miss', `${service.base}/demo/hopper?w=${16 + 8 * i}&h=${16 + 8 * i}`, svc);
    // Interleaved, and the service's two kinds alternate in an order that changes every 6 (a sandbox's requests), so fresh sandboxes fall on both.
    for (let i = 0; i < n; i++) {
      const hitFirst = Math.floor(i / 3) % 2 === 0;
      await take(hitFirst ? 'hit' : 'signed', hitFirst ? hitUrl : signed, svc);
      await take('minimal', `${minimal.base}/`, ref1);
      await take(hitFirst ? 'signed' : 'hit', hitFirst ? signed : hitUrl, svc);
      await take('same', `${same.base}/`, ref2);
    }
    // Let Viceroy print the last lines.
    await new Promise((r) => setTimeout(r, 500));
    const logged: Record<Kind, number[]> = { miss: [], hit: [], signed: [], minimal: [], same: [] };
    const serviceLines = loggedCpu(service.out()).slice(-serviceOrder.length);
    serviceOrder.forEach((o, i) => !o.fresh && serviceLines[i] !== undefined && logged[o.kind].push(serviceLines[i]!));
    const sameLines = loggedCpu(same.out()).slice(-sameOrder.length);
    sameOrder.forEach((fresh, i) => !fresh && sameLines[i] !== undefined && logged.same.push(sameLines[i]!));

    const cpus = (k: Kind) => warm[k].map((s) => s.cpu);
    const walls = (k: Kind) => warm[k].flatMap((s) => (s.wall === undefined ? [] : [s.wall]));
    const own = (k: Kind) => mean(cpus(k)) - mean(cpus('same'));
    const row = (name: string, k: Kind) => [name, cpuCell(cpus(k)), meanCell(logged[k]), meanCell(walls(k)), cold[k].length ? `${f2(mean(cold[k].map((s) => s.cpu)))} ms (n ${cold[k].length})` : ''];
    const oursRow = (name: string, k: Kind) => [...row(name, k), k === 'minimal' || k === 'same' ? '' : diffCell(cpus(k), cpus('same'))];
    return {
      id: 'fastly-cpu',
      title: 'Fastly: vCPU per request under Viceroy',
      method:
        `The compiled service (bin/main.wasm) and two js-compute references built and run in the same bench, each in its own Viceroy process, requests interleaved: ` +
        `"minimal" answers 4 KiB from memory; "same host calls" makes the host calls of our HIT and nothing else, the service's way (request URL and headers, client address and rate-limit check, ` +
        `one Core Cache transaction lookup of a stored 4 KiB body handed on as Core Cache's stream, the response with the service's headers, one log line). ${n} warm requests of each kind; vCpuTime() differences in whole ms, so the means (± 95 % interval) are the figures.`,
      headlines: [
        ...HIT_KINDS.map(([name, k, target]) => ({
          metric: `${name}, our code (ours − same host calls)`,
          ours: diffCell(cpus(k), cpus('same')),
          reference: cpuCell(cpus('same')),
          referenceName: 'same host calls, whole request',
          ratio: `ours ${f2(mean(cpus(k)))} ms`,
          target: `≤ ${target} ms`,
          met: own(k) <= target,
        })),
        ...HIT_KINDS.map(([name, k, target]) => ({
          metric: `${name}, all of it (host calls included)`,
          ours: cpuCell(cpus(k)),
          reference: cpuCell(cpus('minimal')),
          referenceName: 'minimal handler',
          ratio: `${f2(mean(cpus(k)) - mean(cpus('minimal')))} ms more`,
          target: `≤ ${target} ms`,
          met: mean(cpus(k)) <= target,
        })),
      ],
      tables: [
        {
          caption: 'Per warm request (a sandbox that answered before), interleaved in one run',
          headers: ['handler', 'vCPU to the answer (Server-Timing)', 'vCPU to the log line', 'performance.now() to the answer', 'fresh sandbox, vCPU to the answer', 'ours − same host calls'],
          rows: [
            oursRow('minimal (4 KiB from memory)', 'minimal'),
            oursRow('same host calls (request headers, rate limit, Core Cache lookup, headers, log line)', 'same'),
            oursRow('ours: cached HIT', 'hit'),
            oursRow('ours: signed HIT', 'signed'),
            oursRow('ours: MISS (edge side of a render)', 'miss'),
          ],
        },
      ],
      notes: [
        'Viceroy\'s vCpuTime() is the wall-clock time of the sandbox\'s turns on the CPU, host calls included (Fastly says so of the same call: it "will include time spent executing hostcalls" and "should not be used in benchmarking across runs"), so figures grow with the machine\'s load and only figures of the same run compare. "ours − same host calls" is what our JavaScript adds to the host calls a HIT cannot avoid, and what the targets are checked against; the rest is what those calls cost under Viceroy on this machine (production counts host-call time too, with its own implementation: not measurable here). docs/fastly.md "Figures" has the runs.',
        'Figures are per request (vCpuTime() at the end minus at the start) in reused sandboxes: the settings are read from the stores at most every 5 s per sandbox, imported HMAC keys, computed HMACs and the checks of URLs already seen are kept (the expiry is checked every time), and the hot path\'s first-use work is done at build time (docs/fastly.md "CPU per request"). "To the answer" ends when the response is made; "to the log line" when the request\'s log line is written.',
        `Viceroy 0.22 gives a sandbox at most ${VICEROY_REQUESTS_PER_SANDBOX} requests whatever FASTLY_SANDBOX_MAX_REQUESTS says; the bench lets every sandbox end first, counts requests per process, and reports the fresh sandboxes' requests (1 in ${VICEROY_REQUESTS_PER_SANDBOX} here, 1 in FASTLY_SANDBOX_MAX_REQUESTS in production) apart.`,
        'performance.now() in js-compute counts wall-clock time inside the handler, with no better resolution than what it prints here; the MISS waits for the renderer, so its wall figure is not CPU.',
      ],
    };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await renderer.close();
    await rm(dir, { recursive: true, force: true });
  }
}
