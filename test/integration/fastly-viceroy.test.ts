/**
 * The compiled Fastly service (bin/main.wasm, built here into a temp dir) under Viceroy,
 * Fastly's local runtime, over real HTTP. Its [local_server] backends point at loopback
 * servers: the renderer (the Node host with a render secret, reading S3) and the bucket
 * (s3rver), which the service itself reads for the admin audit log and alpha probes.
 *
 * Viceroy is built from crates.io by scripts/setup-viceroy.sh. Without it this file is skipped
 * locally with a message; in CI (CI set) a missing Viceroy fails the run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../../scripts/lib/free-port.js';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/core/auth/index.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { originalKey } from '../../src/core/storage-keys.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import { imageFacts } from '../support/decode.js';
import { S3RVER_KEY, startS3rver, type S3rverHandle } from '../storage/s3rver.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLES = join(ROOT, 'samples/demo');
const RENDER_SECRET = 'viceroy-test-render-secret-0123456789abcdef';
const ADMIN_TOKEN = 'viceroy-test-admin-token-0123456789abcdef';
const SIGNING_KEY = 'viceroy-test-signing-key-0123456789';
const WEBP = 'image/avif,image/webp,*/*;q=0.8';
const LEGACY = 'image/jpeg,image/png,*/*;q=0.8';
// Edge and renderer share the tenants' canonical form (breakpoints, formats, qualities); only
// the edge checks signatures, so only the edge has the keys (from its Secret Store).
const TENANTS = { demo: {}, secure: { requireSignature: true } };
const RENDERER_TENANTS = { demo: {}, secure: {} };

function findViceroy(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), join(homedir(), '.cargo/bin')]) {
    const p = join(dir, 'viceroy');
    if (dir && existsSync(p)) return p;
  }
  return null;
}

const VICEROY = process.env.VICEROY ?? findViceroy();
const IN_CI = !!process.env.CI;
if (!VICEROY && !IN_CI) {
  console.warn('fastly-viceroy.test.ts skipped: viceroy is not installed (scripts/setup-viceroy.sh builds it); CI runs it.');
}


/** The repository's fastly.toml with its [local_server] replaced by loopback ports and test values. */
async function testManifest(rendererUrl: string, s3: S3rverHandle): Promise<string> {
  const real = await readFile(join(ROOT, 'fastly.toml'), 'utf8');
  const head = real.slice(0, real.search(/^\[local_server/m));
  const secrets = {
    RENDER_SECRET,
    ADMIN_TOKEN,
    TENANT_KEYS_JSON: JSON.stringify({ secure: { k1: SIGNING_KEY } }),
    S3_ACCESS_KEY_ID: S3RVER_KEY.accessKeyId,
    S3_SECRET_ACCESS_KEY: S3RVER_KEY.secretAccessKey,
  };
  return `${head}
[local_server.backends.renderer]
url = "${rendererUrl}"

[local_server.backends.store]
url = "${s3.endpoint}"

[local_server.config_stores.avatar_edge_config]
format = "inline-toml"

[local_server.config_stores.avatar_edge_config.contents]
AVATAR_CONFIG_JSON = '${JSON.stringify({ tenants: TENANTS })}'
SHIELD_POP = "iad-va-us"
STORAGE = "s3"
S3_ENDPOINT = "${s3.endpoint}"
S3_REGION = "us-east-1"
S3_BUCKET = "avatars"

[local_server.shielding_sites]
"iad-va-us" = "Local"

[local_server.secret_stores]
avatar_edge_secrets = [
${Object.entries(secrets).map(([key, data]) => `  { key = "${key}", data = '${data}' },`).join('\n')}
]
`;
}

describe.skipIf(!VICEROY && !IN_CI)('Fastly service under Viceroy', () => {
  let dir: string;
  let s3: S3rverHandle;
  let renderer: Awaited<ReturnType<typeof startNodeApp>>;
  let viceroy: ChildProcess;
  let viceroyLog = '';
  let base = '';
  /** Requests that reached the renderer's /_render route. */
  let renders = 0;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers: { accept: WEBP, ...headers } });
  const admin = (path: string, body: unknown) =>
    fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    if (!VICEROY) throw new Error('CI is set but viceroy is not installed: run scripts/setup-viceroy.sh first');
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-viceroy-'));
    const wasm = join(dir, 'main.wasm');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-fastly.mjs'), '--out', wasm], { cwd: ROOT, stdio: 'pipe' });

    s3 = await startS3rver(['avatars']);
    const store = createS3Store({ endpoint: s3.endpoint, region: 'us-east-1', bucket: 'avatars', ...S3RVER_KEY });
    for (const [tenant, id, file, type] of [
      ['demo', 'hopper', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'mysha', 'mysha.png', 'image/png'],
      ['secure', 'hopper', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'leaked', 'hopper.jpg', 'image/jpeg'],
    ] as const) {
      await store.put(originalKey(tenant, id), await readFile(join(SAMPLES, file)), { contentType: type });
    }
    renderer = await startNodeApp({ config: loadServiceConfig({ tenants: RENDERER_TENANTS }), store, samplesDir: null, renderSecrets: [RENDER_SECRET], log: () => {} });
    renderer.server.on('request', (req) => {
      if (req.url?.startsWith('/_render/')) renders++;
    });

    const toml = join(dir, 'fastly.toml');
    await writeFile(toml, await testManifest(renderer.url, s3));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    viceroy = spawn(VICEROY, ['-C', toml, wasm, '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    viceroy.stdout!.on('data', (d) => (viceroyLog += d));
    viceroy.stderr!.on('data', (d) => (viceroyLog += d));
    // Viceroy compiles the 12 MB module before it listens: tens of seconds on a busy 2-core box.
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (viceroy.exitCode !== null) throw new Error(`viceroy exited with ${viceroy.exitCode}:\n${viceroyLog}`);
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`viceroy did not answer in 150 s:\n${viceroyLog}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Build + s3rver + renderer warm-up + Viceroy's compile: more than the default hook timeout on a busy box.
  }, 300_000);

  afterAll(async () => {
    if (viceroy && viceroy.exitCode === null) {
      const exited = new Promise((r) => viceroy.once('exit', r));
      viceroy.kill('SIGTERM');
      await exited;
    }
    await renderer?.close();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders on a miss through the renderer backend, with the edge headers', async () => {
    const r = await get('/demo/hopper?w=128&h=128');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('MISS');
    expect(r.headers.get('content-type')).toBe('image/webp');
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(r.headers.get('vary')).toBe('Accept');
    expect(r.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(r.headers.get('surrogate-key')).toBe('t:demo i:demo/hopper v:demo/hopper/128x128-cover-q75.webp');
    expect(r.headers.get('server-timing')).toMatch(/cache;desc="MISS", origin;dur=[\d.]+, total;dur=[\d.]+, cpu;dur=\d+/);
    const facts = imageFacts(await r.arrayBuffer());
    expect([facts.format, facts.width, facts.height]).toEqual(['webp', 128, 128]);
    expect(renders).toBe(1);
  });

  it('gives junk, reordered and differently-cased params the same cached object (Core Cache hit)', async () => {
    const first = await get('/demo/hopper?w=128&h=128');
    const junk = await get('/demo/hopper?utm_source=mail&H=120&cb=12345&W=100&fit=COVER');
    const template = await get('/demo/hopper/128.webp');
    for (const r of [first, junk, template]) {
      expect(r.status).toBe(200);
      expect(r.headers.get('x-cache')).toBe('HIT');
      expect(r.headers.get('x-variant')).toBe('demo/hopper/128x128-cover-q75.webp');
      await r.arrayBuffer();
    }
    expect(junk.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(renders).toBe(1);
  });

  it('answers 304 to a matching If-None-Match from the cache', async () => {
    const r = await get('/demo/hopper?w=128&h=128');
    const again = await get('/demo/hopper?w=128&h=128', { 'if-none-match': r.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(renders).toBe(1);
  });

  it('drops the object on a surrogate-key purge through the admin API, then misses once', async () => {
    const purge = await admin('/_admin/purge', { keys: ['i:demo/hopper'], reason: 'viceroy test' });
    expect(purge.status).toBe(200);
    expect(await purge.json()).toMatchObject({ ok: true, audit: { id: expect.any(String) } });
    const after = await get('/demo/hopper?w=128&h=128');
    expect(after.headers.get('x-cache')).toBe('MISS');
    await after.arrayBuffer();
    expect(renders).toBe(2);
    expect((await get('/demo/hopper?w=128&h=128')).headers.get('x-cache')).toBe('HIT');
  });

  it('serves a soft-purged object stale while one request refreshes it', async () => {
    expect((await admin('/_admin/purge', { keys: ['v:demo/hopper/128x128-cover-q75.webp'], soft: true })).status).toBe(200);
    const stale = await get('/demo/hopper?w=128&h=128');
    expect(stale.headers.get('x-cache')).toBe('STALE');
    await stale.arrayBuffer();
    // The refresh runs after the response (waitUntil): poll until it has landed.
    for (let i = 0; i < 40 && renders < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(renders).toBe(3);
    // The renderer has answered; the refreshed object lands in the cache once its body is
    // read and inserted, so poll (bounded) for the HIT rather than race it.
    let state = '';
    for (let i = 0; i < 40 && state !== 'HIT'; i++) {
      const r = await get('/demo/hopper?w=128&h=128');
      state = r.headers.get('x-cache') ?? '';
      await r.arrayBuffer();
      if (state !== 'HIT') await new Promise((res) => setTimeout(res, 100));
    }
    expect(state).toBe('HIT');
    // Requests served stale meanwhile did not start refreshes of their own.
    expect(renders).toBe(3);
  });

  it('answers /_render/* itself as a shield POP would: bearer checked, then cache, then the renderer', async () => {
    const path = '/_render/demo/hopper/64x64-cover-q75.webp';
    const before = renders;
    expect((await fetch(base + path, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(base + path, { headers: { authorization: `Bearer ${RENDER_SECRET}` } });
      expect(r.status).toBe(200);
      expect(r.headers.get('surrogate-key')).toBe('t:demo i:demo/hopper v:demo/hopper/64x64-cover-q75.webp');
      await r.arrayBuffer();
    }
    expect(renders).toBe(before + 1);
    // The edge role shares the shield role's copy: same canonical key.
    expect((await get('/demo/hopper/64.webp')).headers.get('x-cache')).toBe('HIT');
  });

  it('verifies signatures at the edge: signed 200, unsigned and tampered 403', async () => {
    const tenant = loadServiceConfig({ tenants: { secure: { requireSignature: true, keys: { k1: SIGNING_KEY } } } }).tenants.get('secure')!;
    const signed = await signUrl({ tenant, id: 'hopper', params: { w: 64, h: 64, fmt: 'webp' }, kid: 'k1' });
    const ok = await get(signed.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
    await ok.arrayBuffer();
    const unsigned = await get('/secure/hopper?w=64&h=64&fmt=webp');
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('cache-control')).toBe('no-store');
    const tampered = await get(signed.url.replace(/w=64/, 'w=128'));
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toMatchObject({ code: expect.stringMatching(/SIGNATURE/) });
  });

  it('answers errors as JSON with no-store: 400, 404 (tenant and image)', async () => {
    const renderBefore = renders;
    const bad = await get('/demo/hopper?w=abc');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('no-store');
    expect(await bad.json()).toMatchObject({ code: 'INVALID_PARAMETER' });
    expect((await get('/nobody/hopper')).status).toBe(404);
    expect(renders).toBe(renderBefore);
    const missing = await get('/demo/no-such-image?w=64');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('takes an image down through the admin API: tombstone in the bucket, purge, verified 410 at the edge', async () => {
    const before = await get('/demo/leaked?w=64&h=64');
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    const takedown = await admin('/_admin/takedown', { tenant: 'demo', id: 'leaked', reason: 'viceroy test', ticket: 'T-1' });
    const report = (await takedown.json()) as { ok: boolean; verification?: { ok: boolean } };
    expect(takedown.status).toBe(200);
    expect(report).toMatchObject({ ok: true, verification: { ok: true } });
    const after = await get('/demo/leaked?w=64&h=64');
    expect(after.status).toBe(410);
    expect(await after.json()).toMatchObject({ code: 'GONE' });
  });

  it('picks PNG for an alpha original when the client takes no WebP (header probe in the bucket)', async () => {
    const r = await get('/demo/mysha?w=64&h=64', { accept: LEGACY });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-variant')).toBe('demo/mysha/64x64-cover-q100.png');
    expect(imageFacts(await r.arrayBuffer()).hasAlpha).toBe(true);
    const jpeg = await get('/demo/hopper?w=64&h=64', { accept: LEGACY });
    expect(jpeg.headers.get('x-variant')).toBe('demo/hopper/64x64-cover-q75.jpeg');
    await jpeg.arrayBuffer();
  });
});
