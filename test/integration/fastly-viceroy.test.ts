/**
 * The compiled Fastly service (bin/main.wasm, built here into a temp dir) under Viceroy,
 * Fastly's local runtime, over real HTTP. Its [local_server] backends point at loopback
 * servers: the renderer (the Node host with a render secret, reading S3) and the bucket
 * (MinIO, which checks every signature), which the service itself reads for the admin audit
 * log, takedowns and alpha probes.
 *
 * Fastly allows 32 backend requests per execution (10 on trial accounts) and Viceroy does not
 * enforce it, so a counting proxy sits in front of every backend: each request carries the
 * execution id the service sends (x-avatar-edge-execution), and after every test no execution
 * may have made more than the service's default BACKEND_REQUEST_LIMIT (10).
 *
 * Viceroy is built from crates.io by scripts/setup-viceroy.sh, MinIO by scripts/setup-minio.sh.
 * Without them this file is skipped locally with a message; in CI (CI set) a missing one fails the run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../../scripts/lib/free-port.js';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../scripts/admin/cli.js';
import { signUrl } from '../../src/core/auth/index.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { originalKey } from '../../src/core/storage-keys.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import { imageFacts } from '../support/decode.js';
import { EXECUTION_HEADER } from '../../src/hosts/fastly/backend-budget.js';
import { createRequestLog } from '../support/counting-proxy.js';
import { MINIO_BIN, type MinioHandle, startMinio } from '../storage/minio.js';

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
const RUN = (!!VICEROY && !!MINIO_BIN) || IN_CI;
if (!RUN) {
  console.warn(`fastly-viceroy.test.ts skipped: ${VICEROY ? '' : 'viceroy (scripts/setup-viceroy.sh) '}${MINIO_BIN ? '' : 'minio (scripts/setup-minio.sh) '}not installed; CI runs it.`);
}

/** The service's default BACKEND_REQUEST_LIMIT: Fastly's trial-account limit per execution. */
const BACKEND_LIMIT = 10;

/** The repository's fastly.toml with its [local_server] replaced by loopback ports and test values. */
async function testManifest(backends: { renderer: string; store: string; store_secondary?: string }, s3: MinioHandle, opts: { secondary?: MinioHandle; limit?: number } = {}): Promise<string> {
  const real = await readFile(join(ROOT, 'fastly.toml'), 'utf8');
  const head = real.slice(0, real.search(/^\[local_server/m));
  const secrets = {
    RENDER_SECRET,
    ADMIN_TOKEN,
    TENANT_KEYS_JSON: JSON.stringify({ secure: { k1: SIGNING_KEY } }),
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ...(opts.secondary ? { S3_SECONDARY_ACCESS_KEY_ID: opts.secondary.accessKeyId, S3_SECONDARY_SECRET_ACCESS_KEY: opts.secondary.secretAccessKey } : {}),
  };
  return `${head}
[local_server.backends.renderer]
url = "${backends.renderer}"

[local_server.backends.store]
url = "${backends.store}"
${backends.store_secondary ? `\n[local_server.backends.store_secondary]\nurl = "${backends.store_secondary}"\n` : ''}
[local_server.config_stores.avatar_edge_config]
format = "inline-toml"

[local_server.config_stores.avatar_edge_config.contents]
AVATAR_CONFIG_JSON = '${JSON.stringify({ tenants: TENANTS })}'
SHIELD_POP = "iad-va-us"
STORAGE = "s3"
S3_ENDPOINT = "${s3.endpoint}"
S3_REGION = "us-east-1"
S3_BUCKET = "avatars"
${opts.secondary ? `S3_SECONDARY_ENDPOINT = "${opts.secondary.endpoint}"\nS3_SECONDARY_REGION = "us-east-1"\nS3_SECONDARY_BUCKET = "archive"\n` : ''}${opts.limit ? `BACKEND_REQUEST_LIMIT = "${opts.limit}"\n` : ''}
[local_server.shielding_sites]
"iad-va-us" = "Local"

[local_server.secret_stores]
avatar_edge_secrets = [
${Object.entries(secrets)
  .map(([key, data]) => `  { key = "${key}", data = '${data}' },`)
  .join('\n')}
]
`;
}

/** bin/main.wasm, built once for the file's suites into a temp dir. */
let built: Promise<{ dir: string; wasm: string }> | undefined;
function buildService(): Promise<string> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'avatar-edge-wasm-'));
    const wasm = join(dir, 'main.wasm');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-fastly.mjs'), '--out', wasm], { cwd: ROOT, stdio: 'pipe' });
    return { dir, wasm };
  })();
  return built.then((b) => b.wasm);
}
afterAll(async () => {
  if (built) await rm((await built).dir, { recursive: true, force: true });
});

/** Starts Viceroy on a free port and waits until the service answers. */
async function startViceroy(toml: string, wasm: string, onLog: (d: string) => void): Promise<{ base: string; proc: ChildProcess }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(VICEROY!, ['-C', toml, wasm, '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (d: Buffer) => {
    log += d;
    onLog(String(d));
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  // Viceroy compiles the 12 MB module before it listens: tens of seconds on a busy 2-core box.
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`viceroy exited with ${proc.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`viceroy did not answer in 150 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, proc };
}

async function stopViceroy(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

describe.skipIf(!RUN)('Fastly service under Viceroy', () => {
  let dir: string;
  let s3: MinioHandle;
  const requests = createRequestLog(EXECUTION_HEADER);
  /** requests.seen.length once Viceroy answered its first request. */
  let ready = 0;
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
    if (!MINIO_BIN) throw new Error('CI is set but minio is not installed: run scripts/setup-minio.sh first');
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-viceroy-'));
    const wasm = await buildService();

    s3 = await startMinio(['avatars']);
    const store = createS3Store({ endpoint: s3.endpoint, region: 'us-east-1', bucket: 'avatars', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    for (const [tenant, id, file, type] of [
      ['demo', 'hopper', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'mysha', 'mysha.png', 'image/png'],
      ['secure', 'hopper', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'leaked', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'gdpr-1', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'gdpr-2', 'mysha.png', 'image/png'],
      ['demo', 'gdpr-3', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'pfx-1', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'cli-leak', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'cli-gdpr-1', 'hopper.jpg', 'image/jpeg'],
      ['demo', 'cli-gdpr-2', 'hopper.jpg', 'image/jpeg'],
    ] as const) {
      await store.put(originalKey(tenant, id), await readFile(join(SAMPLES, file)), { contentType: type });
    }
    renderer = await startNodeApp({ config: loadServiceConfig({ tenants: RENDERER_TENANTS }), store, samplesDir: null, renderSecrets: [RENDER_SECRET], log: () => {} });
    renderer.server.on('request', (req) => {
      if (req.url?.startsWith('/_render/')) renders++;
    });

    const toml = join(dir, 'fastly.toml');
    const backends = { renderer: await requests.proxy('renderer', renderer.url), store: await requests.proxy('store', s3.endpoint) };
    await writeFile(toml, await testManifest(backends, s3));
    ({ base, proc: viceroy } = await startViceroy(toml, wasm, (d) => (viceroyLog += d)));
    ready = requests.seen.length;
    // Build + s3rver + renderer warm-up + Viceroy's compile: more than the default hook timeout on a busy box.
  }, 300_000);

  afterAll(async () => {
    await stopViceroy(viceroy);
    await requests.close();
    await renderer?.close();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Every backend request names its execution, and no execution makes more than Fastly allows.
  // (Viceroy's own reachability probes of each backend at start-up, GET /, come before `ready`.)
  afterEach(() => {
    const byExecution = requests.perExecution(ready);
    expect(byExecution.get('') ?? [], 'backend requests without an execution id').toEqual([]);
    for (const [id, list] of byExecution) {
      expect(list.length, `execution ${id} made ${list.length} backend requests:\n${list.map((r) => `  ${r.backend} ${r.method} ${r.path}`).join('\n')}`).toBeLessThanOrEqual(BACKEND_LIMIT);
    }
  });

  /** Backend requests of the executions that ran since `mark` (requests.seen.length before). */
  const executionsSince = (mark: number) => [...requests.perExecution(mark).values()];

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

  it("answers a hit with the whole body and its Content-Length (the body is Core Cache's stream, never read in)", async () => {
    await (await get('/demo/hopper?w=128&h=128')).arrayBuffer();
    const bodies: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const hit = await get('/demo/hopper?w=128&h=128');
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.headers.get('transfer-encoding')).toBeNull();
      const body = Buffer.from(await hit.arrayBuffer());
      expect(hit.headers.get('content-length')).toBe(String(body.byteLength));
      bodies.push(body);
    }
    const facts = imageFacts(bodies[0]!);
    expect([facts.format, facts.width, facts.height]).toEqual(['webp', 128, 128]);
    expect(bodies[1]!.equals(bodies[0]!)).toBe(true);
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
    // Three times: in a reused sandbox the later requests sign with the key the first one imported.
    for (let i = 0; i < 3; i++) {
      const ok = await get(signed.url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('image/webp');
      await ok.arrayBuffer();
    }
    const unsigned = await get('/secure/hopper?w=64&h=64&fmt=webp');
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('cache-control')).toBe('no-store');
    const tampered = await get(signed.url.replace(/w=64/, 'w=128'));
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toMatchObject({ code: expect.stringMatching(/SIGNATURE/) });
  });

  it('refuses a signed URL it has already served once it expires (the sandbox remembers the URL, not its expiry)', async () => {
    const tenant = loadServiceConfig({ tenants: { secure: { requireSignature: true, keys: { k1: SIGNING_KEY } } } }).tenants.get('secure')!;
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { url } = await signUrl({ tenant, id: 'hopper', params: { w: 48, h: 48, fmt: 'webp' }, kid: 'k1', exp });
    for (let i = 0; i < 2; i++) {
      const ok = await get(url);
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    await new Promise((r) => setTimeout(r, Math.max(0, (exp + 1) * 1000 - Date.now() + 50)));
    const late = await get(url);
    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({ code: 'EXPIRED' });
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
    // Cached under several URLs, and stored as variants in the bucket by the renderer.
    for (const path of ['/demo/leaked/128.webp', '/demo/leaked?w=256&fmt=jpeg']) {
      const r = await get(path);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const mark = requests.seen.length;
    const takedown = await admin('/_admin/takedown', { tenant: 'demo', id: 'leaked', reason: 'viceroy test', ticket: 'T-1' });
    const report = (await takedown.json()) as { ok: boolean; deleted: string[]; verification?: { ok: boolean; via: string; checked: number; gone: number; probes: unknown[] } };
    const executions = executionsSince(mark);
    const used = executions[0]!;
    console.info(
      `takedown: ${used.length} backend requests in one execution (${used.filter((r) => r.backend === 'renderer').length} renderer, ${used.filter((r) => r.backend === 'store').length} store): ${used.map((r) => `${r.method} ${r.path.split('?')[0]}${r.path.includes('?delete') ? '?delete' : ''}`).join(', ')}`,
    );
    expect(takedown.status, JSON.stringify(report)).toBe(200);
    expect(report).toMatchObject({ ok: true, verification: { ok: true, via: 'edge-cache' } });
    // The original and the three stored variants.
    expect(report.deleted).toHaveLength(4);
    expect(report.verification!.gone).toBe(report.verification!.checked);
    expect(report.verification!.probes.length).toBe(report.verification!.checked);
    expect(executions).toHaveLength(1);
    expect(used.filter((r) => r.backend === 'renderer')).toEqual([]);
    expect(used.length).toBeLessThanOrEqual(BACKEND_LIMIT);
    const after = await get('/demo/leaked?w=64&h=64');
    expect(after.status).toBe(410);
    expect(await after.json()).toMatchObject({ code: 'GONE' });
  });

  it('erases several ids over several calls, as many per call as the request limit allows, each verified', async () => {
    for (const id of ['gdpr-1', 'gdpr-2', 'gdpr-3']) {
      const r = await get(`/demo/${id}?w=64&h=64`);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    let ids = ['gdpr-1', 'gdpr-2', 'gdpr-3'];
    const erased: string[] = [];
    for (let call = 0; call < 5 && ids.length; call++) {
      const mark = requests.seen.length;
      const res = await admin('/_admin/erase', { tenant: 'demo', ids, reason: 'viceroy erase', ticket: 'T-2' });
      const body = (await res.json()) as { ok: boolean; more: boolean; remaining?: string[]; images: { id: string; ok: boolean }[] };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.ok).toBe(true);
      // With the trial limit of 10, one image per call: its 7 requests and the audit entry.
      expect(body.images).toHaveLength(1);
      expect(body.images[0]!.ok).toBe(true);
      erased.push(body.images[0]!.id);
      ids = body.remaining ?? [];
      expect(body.more).toBe(ids.length > 0);
      const used = executionsSince(mark);
      expect(used).toHaveLength(1);
      console.info(`erase call ${call + 1}: ${used[0]!.length} backend requests in one execution`);
    }
    expect(erased).toEqual(['gdpr-1', 'gdpr-2', 'gdpr-3']);
    for (const id of erased) expect((await get(`/demo/${id}?w=64&h=64`)).status).toBe(410);
  });

  it('fits a prefix erase of one image in one execution: the tenant listing (2), the image (7) and the audit entry (1)', async () => {
    const r = await get('/demo/pfx-1?w=64&h=64');
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const mark = requests.seen.length;
    const res = await admin('/_admin/erase', { tenant: 'demo', prefix: 'pfx', reason: 'viceroy erase', ticket: 'T-3' });
    const body = (await res.json()) as { ok: boolean; more: boolean; images: { id: string; ok: boolean }[] };
    const used = executionsSince(mark);
    expect(used).toHaveLength(1);
    console.info(`prefix erase: ${used[0]!.length} backend requests in one execution, answered ${res.status}`);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ ok: true, more: false, images: [{ id: 'pfx-1', ok: true }] });
    expect(used[0]!.length).toBe(BACKEND_LIMIT);
    expect((await get('/demo/pfx-1?w=64&h=64')).status).toBe(410);
  });

  it('admin CLI: a takedown checked from outside, and an erase of several ids that follows `remaining`', async () => {
    for (const path of ['/demo/cli-leak/64.webp', '/demo/cli-gdpr-1/64.webp', '/demo/cli-gdpr-2/64.webp']) {
      const r = await get(path);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAdminCli([...argv, '--url', base], { out: (l) => out.push(l), err: (l) => err.push(l), env: { AVATAR_ADMIN_TOKEN: ADMIN_TOKEN } });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const takedown = await run('takedown', 'demo/cli-leak', '--reason', 'viceroy cli', '--ticket', 'T-4');
    expect(takedown.out).toMatch(/takedown demo\/cli-leak: done/);
    expect(takedown.out).toMatch(/from outside: (\d+)\/\1 public URLs answer 410$/m);
    expect(takedown.code).toBe(0);
    const erase = await run('erase', 'demo', '--ids', 'cli-gdpr-1,cli-gdpr-2', '--reason', 'viceroy cli', '--ticket', 'T-5');
    expect(erase.err.split('\n')).toEqual(['erase: 1/2 ids sent, 1 erased', 'erase: 2/2 ids sent, 2 erased']);
    expect(erase.out).toMatch(/erase demo: done, 2 images erased/);
    expect(erase.code).toBe(0);
    expect((await get('/demo/cli-gdpr-2/64.webp')).status).toBe(410);
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

/**
 * A failover secondary: two MinIO servers (primary `avatars`, secondary `archive`), each behind
 * a counting proxy as its own backend. A takedown tombstones, deletes and verifies on both, which
 * costs 7 backend requests per store plus the audit entry: 15, more than the trial limit of 10.
 * At 10 it is split over two calls, each within 10 (202 with `next`, then 200), which the admin
 * CLI follows; with BACKEND_REQUEST_LIMIT=15 it completes in one call within 15.
 */
describe.skipIf(!RUN)('Fastly service under Viceroy, with a failover secondary bucket', () => {
  let dir: string;
  let primary: MinioHandle;
  let secondary: MinioHandle;
  let renderer: Awaited<ReturnType<typeof startNodeApp>>;
  const requests = createRequestLog(EXECUTION_HEADER);
  let ready = 0;
  /** The same service at the default limit (10) and at 15. */
  const edges: Record<'trial' | 'raised', { base: string; proc?: ChildProcess }> = { trial: { base: '' }, raised: { base: '' } };
  const stores = () => ({
    primary: createS3Store({ endpoint: primary.endpoint, region: 'us-east-1', bucket: 'avatars', accessKeyId: primary.accessKeyId, secretAccessKey: primary.secretAccessKey }),
    secondary: createS3Store({ endpoint: secondary.endpoint, region: 'us-east-1', bucket: 'archive', accessKeyId: secondary.accessKeyId, secretAccessKey: secondary.secretAccessKey }),
  });
  /** Everything a bucket holds of one image: original, variants, tombstone (kinds only). */
  async function holds(store: ReturnType<typeof createS3Store>, id: string): Promise<string[]> {
    const found: string[] = [];
    for (const kind of ['originals', 'variants', 'tombstones']) {
      for (const key of (await store.list(`${kind}/demo/`)).keys) if (key.split('/')[3] === id) found.push(kind);
    }
    return found.sort();
  }

  beforeAll(async () => {
    if (!VICEROY) throw new Error('CI is set but viceroy is not installed: run scripts/setup-viceroy.sh first');
    if (!MINIO_BIN) throw new Error('CI is set but minio is not installed: run scripts/setup-minio.sh first');
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-viceroy2-'));
    const wasm = await buildService();
    [primary, secondary] = await Promise.all([startMinio(['avatars']), startMinio(['archive'])]);
    const s = stores();
    // Replicated originals: in both buckets, as the bucket's replication would leave them.
    for (const id of ['both-1', 'both-2', 'gone-1']) {
      const bytes = await readFile(join(SAMPLES, 'hopper.jpg'));
      for (const store of [s.primary, s.secondary]) await store.put(originalKey('demo', id), bytes, { contentType: 'image/jpeg' });
    }
    renderer = await startNodeApp({ config: loadServiceConfig({ tenants: RENDERER_TENANTS }), store: s.primary, samplesDir: null, renderSecrets: [RENDER_SECRET], log: () => {} });
    const backends = {
      renderer: await requests.proxy('renderer', renderer.url),
      store: await requests.proxy('store', primary.endpoint),
      store_secondary: await requests.proxy('store_secondary', secondary.endpoint),
    };
    for (const [name, limit] of [
      ['trial', undefined],
      ['raised', 15],
    ] as const) {
      const toml = join(dir, `fastly-${name}.toml`);
      await writeFile(toml, await testManifest(backends, primary, { secondary, ...(limit ? { limit } : {}) }));
      edges[name] = await startViceroy(toml, wasm, () => {});
    }
    ready = requests.seen.length;
  }, 400_000);

  afterAll(async () => {
    await Promise.all(Object.values(edges).map((e) => stopViceroy(e.proc)));
    await requests.close();
    await renderer?.close();
    await Promise.all([primary?.stop(), secondary?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    const byExecution = requests.perExecution(ready);
    expect(byExecution.get('') ?? [], 'backend requests without an execution id').toEqual([]);
    // The raised service's limit; each test checks its own executions against theirs.
    for (const [id, list] of byExecution) expect(list.length, `execution ${id} made ${list.length} backend requests`).toBeLessThanOrEqual(15);
  });

  const takedown = (edge: 'trial' | 'raised', id: string) =>
    fetch(`${edges[edge].base}/_admin/takedown`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'demo', id, reason: 'viceroy secondary', ticket: 'T-9' }),
    });
  const describeUse = (list: { backend: string; method: string; path: string }[]) =>
    `${list.length} backend requests (${['store', 'store_secondary', 'renderer'].map((b) => `${list.filter((r) => r.backend === b).length} ${b}`).join(', ')}): ${list.map((r) => `${r.backend} ${r.method} ${r.path.split('?')[0]}${r.path.includes('?delete') ? '?delete' : ''}`).join(', ')}`;

  /** The admin CLI against one of the edges (it follows split calls); stdout and stderr lines. */
  async function cli(edge: 'trial' | 'raised', ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdminCli([...argv, '--url', edges[edge].base], { out: (l) => out.push(l), err: (l) => err.push(l), env: { AVATAR_ADMIN_TOKEN: ADMIN_TOKEN } });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('at the default limit of 10: the takedown completes over two calls (9, then 7 requests), both buckets verified; the CLI follows them', async () => {
    const r = await fetch(`${edges.trial.base}/demo/both-1?w=64&h=64`, { headers: { accept: WEBP } });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const s = stores();
    expect(await holds(s.primary, 'both-1')).toEqual(['originals', 'variants']);
    expect(await holds(s.secondary, 'both-1')).toEqual(['originals']);

    // The API by hand: the first call is a part (202), its `next` finishes it.
    const mark = requests.seen.length;
    const res = await takedown('trial', 'both-1');
    const part = (await res.json()) as { ok: boolean; more: boolean; done: string[]; next: Record<string, unknown>; audit: { id: string } };
    expect(res.status, JSON.stringify(part)).toBe(202);
    expect(part).toMatchObject({ ok: false, more: true, next: { id: 'both-1', continue: { stage: 'verify', variants: ['64x64-cover-q75.webp'] } } });
    expect(await holds(s.primary, 'both-1')).toEqual(['tombstones']);
    expect(await holds(s.secondary, 'both-1')).toEqual(['tombstones']);
    const last = await fetch(`${edges.trial.base}/_admin/takedown`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'demo', reason: 'viceroy secondary', ticket: 'T-9', ...part.next }),
    });
    const body = (await last.json()) as Record<string, unknown>;
    expect(last.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      continues: part.audit.id,
      verification: {
        ok: true,
        via: 'edge-cache',
        stores: [
          { store: 'primary', tombstone: true, remaining: [] },
          { store: 'secondary', tombstone: true, remaining: [] },
        ],
      },
    });
    const used = [...requests.perExecution(mark).values()];
    console.info(`takedown with a secondary at BACKEND_REQUEST_LIMIT=10: ${used.map((u) => describeUse(u)).join(' | ')}`);
    expect(used.map((u) => u.length)).toEqual([9, 7]);
    expect(used.flat().filter((q) => q.backend === 'renderer')).toEqual([]);
    expect((await fetch(`${edges.trial.base}/demo/both-1?w=64&h=64`, { headers: { accept: WEBP } })).status).toBe(410);

    // The CLI: a prefix erasure (19 requests in one call) goes listing, remove, verify, then a last listing.
    const before = requests.seen.length;
    const erase = await cli('trial', 'erase', 'demo', '--prefix', 'gone-', '--reason', 'viceroy split', '--ticket', 'T-10');
    const calls = [...requests.perExecution(before).values()];
    console.info(`prefix erase with a secondary at BACKEND_REQUEST_LIMIT=10: ${calls.map((u) => u.length).join(', ')} backend requests per call`);
    expect(erase.code, erase.err).toBe(0);
    expect(erase.out).toMatch(/erase demo: done, 1 images erased/);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const c of calls) expect(c.length).toBeLessThanOrEqual(BACKEND_LIMIT);
    expect(await holds(s.primary, 'gone-1')).toEqual(['tombstones']);
    expect(await holds(s.secondary, 'gone-1')).toEqual(['tombstones']);
  });

  it('with BACKEND_REQUEST_LIMIT=15: 15 requests in one execution (7 per bucket and the audit entry), both buckets verified, ok; repeating a done takedown is ok', async () => {
    const r = await fetch(`${edges.raised.base}/demo/both-2?w=64&h=64`, { headers: { accept: WEBP } });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const mark = requests.seen.length;
    const res = await takedown('raised', 'both-2');
    const body = (await res.json()) as { ok: boolean; deleted: string[] };
    const used = [...requests.perExecution(mark).values()];
    console.info(`takedown with a secondary at BACKEND_REQUEST_LIMIT=15: ${describeUse(used[0]!)}; answered ${res.status}`);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      verification: {
        ok: true,
        via: 'edge-cache',
        stores: [
          { store: 'primary', tombstone: true, remaining: [] },
          { store: 'secondary', tombstone: true, remaining: [] },
        ],
      },
    });
    expect(used).toHaveLength(1);
    expect(used[0]!.length).toBe(15);
    expect(used[0]!.filter((q) => q.backend === 'store_secondary')).toHaveLength(7);
    expect(used[0]!.filter((q) => q.backend === 'renderer')).toEqual([]);
    const s = stores();
    expect(await holds(s.primary, 'both-2')).toEqual(['tombstones']);
    expect(await holds(s.secondary, 'both-2')).toEqual(['tombstones']);
    expect((await fetch(`${edges.raised.base}/demo/both-2?w=64&h=64`, { headers: { accept: WEBP } })).status).toBe(410);

    const again = await takedown('raised', 'both-1');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ ok: true, verification: { ok: true } });
  });
});
