/**
 * Failures under Viceroy, with two instances of the compiled service (bin/main.wasm, built
 * here): a shield POP and an edge POP whose fastly.toml names the shield as a remote
 * [local_server.shielding_sites] entry. Both have the renderer (the Node host) as their
 * `renderer` backend, each through its own counting proxy, so the test sees who called it.
 *
 *   1. a miss at the edge goes through the shield, which calls the renderer;
 *   2. with the shield process killed by PID, the edge calls the renderer itself, once, and logs it;
 *   3. with the renderer stopped too, an expired object is served stale (X-Cache: STALE and
 *      X-Stale-Reason) instead of a 502, and a variant never cached answers 502.
 *
 * The short-TTL tenant has a 1 s TTL (cache.shortTtl) so (3) needs no clock tricks: the test
 * waits for the TTL to pass, which is the one wait in this file.
 *
 * Viceroy is built by scripts/setup-viceroy.sh; without it this file is skipped locally with a
 * message, and in CI (CI set) a missing one fails the run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { EXECUTION_HEADER } from '../../src/hosts/fastly/backend-budget.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createRequestLog } from '../support/counting-proxy.js';
import { imageFacts } from '../support/decode.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RENDER_SECRET = 'viceroy-failover-render-secret-0123456789';
const ADMIN_TOKEN = 'viceroy-failover-admin-token-0123456789ab';
const WEBP = 'image/avif,image/webp,*/*;q=0.8';
// `secure` is the short-TTL tenant here (1 s), unsigned: this file is about failures, not signatures.
// `secure` also allows embedding only from good.example.com (hotlink protection; no Referer is fine).
const CONFIG = {
  cache: { shortTtl: 1, edgeStaleIfError: 600 },
  tenants: { demo: {}, secure: { ttlClass: 'short' as const, allowedReferers: ['good.example.com'], allowEmptyReferer: true } },
};

// Tight on purpose: Viceroy's rate limiter is a stub (never over, penalty box always empty), so
// under Viceroy these only prove the calls are valid for the real runtime; the doubles test the limits.
const RATE_LIMITS = { clientRps: 1, clientWindow: 1, penaltyMinutes: 1, rendersPerMinute: 1000 };

function findViceroy(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), join(homedir(), '.cargo/bin')]) {
    const p = join(dir, 'viceroy');
    if (dir && existsSync(p)) return p;
  }
  return null;
}

const VICEROY = process.env.VICEROY ?? findViceroy();
const RUN = !!VICEROY || !!process.env.CI;
if (!RUN) console.warn('fastly-viceroy-failover.test.ts skipped: viceroy (scripts/setup-viceroy.sh) not installed; CI runs it.');

/** The repository's fastly.toml with a [local_server] for one POP. */
async function manifest(renderer: string, shielding: string): Promise<string> {
  const real = await readFile(join(ROOT, 'fastly.toml'), 'utf8');
  const head = real.slice(0, real.search(/^\[local_server/m));
  const secrets = { RENDER_SECRET, ADMIN_TOKEN, TENANT_KEYS_JSON: '{}' };
  return `${head}
[local_server.backends.renderer]
url = "${renderer}"

[local_server.config_stores.avatar_edge_config]
format = "inline-toml"

[local_server.config_stores.avatar_edge_config.contents]
AVATAR_CONFIG_JSON = '${JSON.stringify(CONFIG)}'
SHIELD_POP = "iad-va-us"
RATE_LIMITS_JSON = '${JSON.stringify(RATE_LIMITS)}'

[local_server.shielding_sites]
${shielding}

[local_server.secret_stores]
avatar_edge_secrets = [
${Object.entries(secrets)
  .map(([key, data]) => `  { key = "${key}", data = '${data}' },`)
  .join('\n')}
]
`;
}

interface Pop {
  proc: ChildProcess;
  base: string;
  log: () => string;
}

async function startPop(wasm: string, toml: string): Promise<Pop> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let out = '';
  const proc = spawn(VICEROY!, ['-C', toml, wasm, '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  // Viceroy compiles the 12 MB module before it listens: tens of seconds on a busy 2-core box.
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`viceroy exited with ${proc.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`viceroy did not answer in 150 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { proc, base, log: () => out };
}

async function stop(pop: Pop | undefined): Promise<void> {
  if (!pop || pop.proc.exitCode !== null || pop.proc.signalCode !== null) return;
  const exited = new Promise((r) => pop.proc.once('exit', r));
  process.kill(pop.proc.pid!, 'SIGKILL');
  await exited;
}

describe.skipIf(!RUN)('Fastly service under Viceroy: shield and renderer failures', () => {
  let dir: string;
  const requests = createRequestLog(EXECUTION_HEADER);
  let renderer: Awaited<ReturnType<typeof startNodeApp>>;
  let shield: Pop;
  let edge: Pop;
  /** Backend requests by proxy name since `mark`. */
  const since = (mark: number) => requests.seen.slice(mark).map((r) => `${r.backend} ${r.path}`);
  const get = (path: string) => fetch(edge.base + path, { headers: { accept: WEBP } });

  beforeAll(async () => {
    if (!VICEROY) throw new Error('CI is set but viceroy is not installed: run scripts/setup-viceroy.sh first');
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-viceroy-failover-'));
    const wasm = join(dir, 'main.wasm');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-fastly.mjs'), '--out', wasm], { cwd: ROOT, stdio: 'pipe' });
    renderer = await startNodeApp({ config: loadServiceConfig(CONFIG), dataDir: join(dir, 'data'), renderSecrets: [RENDER_SECRET], log: () => {} });

    const shieldToml = join(dir, 'shield.toml');
    await writeFile(shieldToml, await manifest(await requests.proxy('renderer@shield', renderer.url), '"iad-va-us" = "Local"'));
    shield = await startPop(wasm, shieldToml);
    const toShield = await requests.proxy('shield', shield.base);
    const edgeToml = join(dir, 'edge.toml');
    await writeFile(edgeToml, await manifest(await requests.proxy('renderer@edge', renderer.url), `"iad-va-us" = { encrypted = "${toShield}", unencrypted = "${toShield}" }`));
    edge = await startPop(wasm, edgeToml);
  }, 400_000);

  afterAll(async () => {
    await stop(edge);
    await stop(shield);
    await requests.close();
    await renderer?.close().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends a miss at the edge through the shield POP, which calls the renderer', async () => {
    const mark = requests.seen.length;
    const r = await get('/demo/hopper?w=64&h=64');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('MISS');
    const facts = imageFacts(await r.arrayBuffer());
    expect([facts.format, facts.width, facts.height]).toEqual(['webp', 64, 64]);
    expect(since(mark)).toEqual(['shield /_render/demo/hopper/64x64-cover-q75.webp', 'renderer@shield /_render/demo/hopper/64x64-cover-q75.webp']);
    // Each POP wrote its request line to the avatar_edge_log endpoint (fastly:logger), which Viceroy prints.
    const line = (pop: Pop, route: string) => {
      const m = pop
        .log()
        .split('\n')
        .find((l) => l.includes('avatar_edge_log') && l.includes(`"route":"${route}"`));
      return m ? (JSON.parse(m.slice(m.indexOf('{'))) as Record<string, unknown>) : undefined;
    };
    expect(line(edge, 'image')).toMatchObject({ method: 'GET', tenant: 'demo', variant: 'demo/hopper/64x64-cover-q75.webp', cache: 'MISS', status: 200 });
    expect(line(shield, 'render')).toMatchObject({ tenant: 'demo', status: 200 });

    // The next miss in the same sandbox (reusable sandboxes) goes through the shield too: its backend is kept, not made again.
    const again = await get('/demo/hopper?w=48&h=48');
    expect([again.status, again.headers.get('x-cache')]).toEqual([200, 'MISS']);
    await again.arrayBuffer();
    expect(since(mark).slice(2)).toEqual(['shield /_render/demo/hopper/48x48-cover-q75.webp', 'renderer@shield /_render/demo/hopper/48x48-cover-q75.webp']);
  });

  it('runs the rate-limit calls on every image request (Viceroy never limits: its fastly:edge-rate-limiter is a stub)', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await get('/demo/hopper?w=64&h=64');
      expect([r.status, r.headers.get('x-cache')]).toEqual([200, 'HIT']);
      await r.arrayBuffer();
    }
  });

  it('denies hotlinking at the edge before the cache or any backend is asked', async () => {
    const mark = requests.seen.length;
    const denied = await fetch(edge.base + '/secure/hopper?w=48&h=48', { headers: { accept: WEBP, referer: 'https://evil.example.net/page' } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('cache-control')).toBe('no-store');
    expect(await denied.json()).toMatchObject({ code: 'HOTLINK_DENIED' });
    expect(since(mark)).toEqual([]);
    const allowed = await fetch(edge.base + '/secure/hopper?w=48&h=48', { headers: { accept: WEBP, referer: 'https://good.example.com/profile' } });
    expect(allowed.status).toBe(200);
    await allowed.arrayBuffer();
    // The same URL from another page right after it was allowed: decided per Referer, not per URL.
    const again = await fetch(edge.base + '/secure/hopper?w=48&h=48', { headers: { accept: WEBP, referer: 'https://evil.example.net/page' } });
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ code: 'HOTLINK_DENIED' });
  });

  it('calls the renderer directly, once, and logs it, when the shield POP is down (killed by PID)', async () => {
    await stop(shield);
    const mark = requests.seen.length;
    const r = await get('/demo/hopper?w=96&h=96');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('MISS');
    expect(imageFacts(await r.arrayBuffer()).width).toBe(96);
    // The shield's proxy is still up and answers 502 for the dead POP: a 5xx, so the edge falls back.
    expect(since(mark)).toEqual(['shield /_render/demo/hopper/96x96-cover-q75.webp', 'renderer@edge /_render/demo/hopper/96x96-cover-q75.webp']);
    expect(edge.log()).toMatch(/shield POP 'iad-va-us' answered 502: calling the renderer directly \(shield fallback\)/);
    // The fallback's answer is cached like any other.
    expect((await get('/demo/hopper?w=96&h=96')).headers.get('x-cache')).toBe('HIT');
  });

  it('serves an expired object stale, with the reason, when shield and renderer are both down; 502 for one never cached', async () => {
    const first = await get('/secure/hopper?w=64&h=64');
    expect([first.status, first.headers.get('x-cache'), first.headers.get('cache-control')]).toEqual([200, 'MISS', 'public, max-age=1']);
    const bytes = new Uint8Array(await first.arrayBuffer());
    // The renderer stops; its proxy then answers 502 (as a load balancer in front of it would).
    await renderer.close();
    // The 1 s TTL of the short class, and a margin.
    await new Promise((r) => setTimeout(r, 1500));
    const mark = requests.seen.length;
    const stale = await get('/secure/hopper?w=64&h=64');
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-cache')).toBe('STALE');
    expect(stale.headers.get('x-stale-reason')).toBe('RENDERER_ERROR');
    expect(stale.headers.get('cache-control')).toBe('public, max-age=60');
    expect(new Uint8Array(await stale.arrayBuffer())).toEqual(bytes);
    // It did try: the shield (dead), then the renderer (stopped), then answered the stale copy.
    expect(since(mark).map((l) => l.split(' ')[0])).toEqual(['shield', 'renderer@edge']);

    const never = await get('/secure/hopper?w=32&h=32');
    expect(never.status).toBe(502);
    expect(never.headers.get('cache-control')).toBe('no-store');
    expect(await never.json()).toMatchObject({ code: 'RENDERER_ERROR' });
  });
});
