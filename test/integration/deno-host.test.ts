import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/core/auth/index.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { originalKey, tombstoneKey, variantObjectKey } from '../../src/core/storage-keys.js';
import type { Variant } from '../../src/core/variant.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import { S3RVER_KEY, startS3rver, type S3rverHandle } from '../storage/s3rver.js';
import { buildDenoBundle, type DenoHost, runDenoHostToExit, startDenoHost } from '../support/deno-host.js';
import { dataDirWith } from '../support/data-dir.js';
import { decodeToRgba } from '../support/pixels.js';
import { stallingJpeg } from '../support/stall-source.js';

/**
 * The Deno host for real: the esbuild bundle under the deno binary from @deno/linux-x64-glibc,
 * over HTTP on loopback. Once in full mode on a directory store, once in renderer mode on
 * S3 (s3rver), which is how a Fastly service uses it.
 */
const SAMPLES = new URL('../../samples/demo/', import.meta.url).pathname;
const SECRET = 'deno-render-secret-0123456789abcdef0123';
const BEARER = { authorization: `Bearer ${SECRET}` };
const WEBP = 'image/avif,image/webp,*/*;q=0.8';
const SIGNING_KEY = 'deno-test-signing-key-0123456789';
// demo without a generated fallback (a missing original is a 404); secure needs signatures;
// gen answers missing originals with a generated avatar.
const SERVICE = { tenants: { demo: {}, secure: { requireSignature: true }, gen: { fallback: 'generated' } } };

let bundle: Awaited<ReturnType<typeof buildDenoBundle>>;
beforeAll(async () => {
  bundle = await buildDenoBundle();
});
afterAll(() => bundle?.remove());

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe('Deno host, full mode, directory store', () => {
  let host: DenoHost;
  let dataDir: string;

  beforeAll(async () => {
    const originals = [
      ['demo', 'hopper', 'hopper.jpg'],
      ['demo', 'mysha', 'mysha.png'],
      ['secure', 'hopper', 'hopper.jpg'],
      ['demo', 'gone', 'hopper.jpg'],
    ] as const;
    dataDir = await dataDirWith(
      'deno-data',
      originals.map(([tenant, id, file]) => ({ tenant, id, file: join(SAMPLES, file) })),
    );
    const tomb = join(dataDir, tombstoneKey('demo', 'gone'));
    await mkdir(dirname(tomb), { recursive: true });
    await copyFile(join(SAMPLES, 'hopper.jpg'), tomb);

    host = await startDenoHost({
      entry: bundle.entry,
      env: {
        DATA_DIR: dataDir,
        AVATAR_CONFIG_JSON: JSON.stringify(SERVICE),
        AVATAR_TENANT_KEYS: JSON.stringify({ secure: { k1: SIGNING_KEY } }),
        RENDER_SECRET: SECRET,
        DEMO_PAGE: 'true',
      },
      writable: [dataDir],
    });
  });
  afterAll(async () => {
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('says what it serves at start-up', () => {
    expect(host.output()).toMatch(/avatar-edge \(deno, full, render route on\) listening on/);
    expect(host.output()).toMatch(/tenants: demo, secure, gen/);
  });

  it('serves the demo page when DEMO_PAGE is set, and generated avatars for missing originals', async () => {
    const page = await host.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const gen = await host.get('/gen/ada-lovelace/64.png');
    expect(gen.status).toBe(200);
    const img = await decodeToRgba(await bytesOf(gen));
    expect([img.format, img.width, img.height]).toEqual(['png', 64, 64]);
  });

  it('renders an avatar that decodes to the requested size and format', async () => {
    const res = await host.get('/demo/hopper?w=128&h=128', { accept: WEBP });
    expect(res.status, host.output()).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('vary')).toBe('Accept');
    expect(res.headers.get('surrogate-key')).toBe('t:demo i:demo/hopper v:demo/hopper/128x128-cover-q75.webp');
    expect(res.headers.get('server-timing')).toMatch(/decode;dur=.*resize;dur=.*encode;dur=/);
    const img = await decodeToRgba(await bytesOf(res));
    expect([img.format, img.width, img.height]).toEqual(['webp', 128, 128]);

    const png = await host.get('/demo/mysha/64.png');
    expect(png.headers.get('content-type')).toBe('image/png');
    const pimg = await decodeToRgba(await bytesOf(png));
    expect([pimg.format, pimg.width, pimg.height]).toEqual(['png', 64, 64]);
  });

  it('gives junk params the same ETag and cached object; 304 on If-None-Match', async () => {
    const a = await host.get('/demo/hopper?w=200&h=200&fit=cover&fmt=jpeg');
    const b = await host.get('/demo/hopper?utm_source=mail&cb=123&FIT=Cover&h=220&w=210&fmt=jpg');
    expect(a.status).toBe(200);
    expect(b.headers.get('etag')).toBe(a.headers.get('etag'));
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('x-variant')).toBe('demo/hopper/256x256-cover-q75.jpeg');
    const cond = await host.get('/demo/hopper/256.jpg', { 'if-none-match': a.headers.get('etag')! });
    expect(cond.status).toBe(304);
  });

  it('answers 404 JSON for a missing original and 410 for a taken-down one', async () => {
    const res = await host.get('/demo/nobody?w=64');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await res.json()).code).toBe('NOT_FOUND');
    expect((await host.get('/demo/gone?w=64')).status).toBe(410);
  });

  it('checks signatures for tenants that require them', async () => {
    const unsigned = await host.get('/secure/hopper?w=64');
    expect(unsigned.status).toBe(403);
    expect((await unsigned.json()).code).toBe('SIGNATURE_REQUIRED');
    const tenant = loadServiceConfig({ tenants: { secure: { requireSignature: true, keys: { k1: SIGNING_KEY } } } }).tenants.get('secure')!;
    const signed = await signUrl({ tenant, id: 'hopper', params: { w: 64, h: 64, fmt: 'webp' }, kid: 'k1' });
    const ok = await host.get(signed.url);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
  });

  it('serves the render route only with the right bearer secret', async () => {
    const path = '/_render/demo/hopper/96x96-cover-q75.webp';
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-secret-0123456789abcdef0123456' }, { authorization: SECRET }];
    for (const headers of refused) {
      const res = await host.get(path, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ code: 'UNAUTHORIZED', message: 'unauthorized' });
    }
    const res = await host.get(path, BEARER);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('surrogate-key')).toBe('t:demo i:demo/hopper v:demo/hopper/96x96-cover-q75.webp');
    expect(res.headers.get('x-render-source')).toBe('render');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    const img = await decodeToRgba(await bytesOf(res));
    expect([img.format, img.width, img.height]).toEqual(['webp', 96, 96]);
    expect((await host.get('/_render/demo/nobody/96x96-cover-q75.webp', BEARER)).status).toBe(404);
  });
});

describe('Deno host, renderer mode, S3 store (s3rver)', () => {
  let s3: S3rverHandle;
  let host: DenoHost;
  const bucket = 'avatars';
  let store: ReturnType<typeof createS3Store>;

  beforeAll(async () => {
    s3 = await startS3rver([bucket]);
    store = createS3Store({ endpoint: s3.endpoint, region: 'us-east-1', bucket, ...S3RVER_KEY });
    await store.put(originalKey('demo', 'hopper'), await readFile(join(SAMPLES, 'hopper.jpg')), { contentType: 'image/jpeg' });
    host = await startDenoHost({
      entry: bundle.entry,
      env: {
        MODE: 'renderer',
        RENDER_SECRET: `${SECRET},old-deno-render-secret-0123456789abcdef`,
        AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { demo: {} } }),
        STORAGE: 's3',
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: 'us-east-1',
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: S3RVER_KEY.accessKeyId,
        S3_SECRET_ACCESS_KEY: S3RVER_KEY.secretAccessKey,
      },
    });
  });
  afterAll(async () => {
    await host?.stop();
    await s3?.stop();
  });

  it('renders from the bucket, writes the variant back, then serves the stored copy', async () => {
    const path = '/_render/demo/hopper/128x128-cover-q75.jpeg';
    const first = await host.get(path, BEARER);
    expect(first.status, host.output()).toBe(200);
    expect(first.headers.get('x-render-source')).toBe('render');
    const img = await decodeToRgba(await bytesOf(first));
    expect([img.format, img.width, img.height]).toEqual(['jpeg', 128, 128]);

    const variant: Variant = { tenant: 'demo', id: 'hopper', width: 128, height: 128, fit: 'cover', format: 'jpeg', quality: 75, version: '', negotiated: false };
    expect(await store.head(variantObjectKey(variant))).not.toBeNull();

    const second = await host.get(path, { authorization: 'Bearer old-deno-render-secret-0123456789abcdef' });
    expect(second.headers.get('x-render-source')).toBe('variant-store');
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('serves nothing else: the public image routes (and no demo page) in renderer mode', async () => {
    expect(host.output()).toMatch(/\(deno, renderer, render route on\)/);
    expect((await host.get('/demo/hopper?w=64')).status).toBe(404);
    expect((await host.get('/')).status).toBe(404);
    expect((await host.get('/_render/demo/hopper/96x96-cover-q75.webp')).status).toBe(401);
  });
});

describe('Deno host, render workers under overload', () => {
  let host: DenoHost;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-deno-data-'));
    const hopper = new Uint8Array(await readFile(join(SAMPLES, 'hopper.jpg')));
    const put = async (id: string, bytes: Uint8Array) => {
      const path = join(dataDir, originalKey('demo', id));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    };
    await put('hopper', hopper);
    const frames = await Promise.all(['hopper.jpg', 'plant.png', 'seeding.jpg'].map((n) => sharp(join(SAMPLES, n)).resize(200, 150).png().toBuffer()));
    await put(
      'animated',
      new Uint8Array(
        await sharp(frames, { join: { animated: true } })
          .gif({ delay: [100, 200, 300] })
          .toBuffer(),
      ),
    );
    for (const tag of ['a', 'b', 'c', 'd']) await put(`slow-${tag}`, stallingJpeg(hopper, tag));
    host = await startDenoHost({
      entry: bundle.entry,
      env: {
        DATA_DIR: dataDir,
        AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { demo: {} } }),
        // One Web Worker, one render waiting at most, and sources carrying the test marker
        // hold their worker for a minute unless the deadline stops them.
        RENDER_THREADS: '1',
        RENDER_QUEUE: '1',
        RENDER_TIMEOUT_MS: '3000',
        RENDER_TEST_STALL_MS: '60000',
      },
      writable: [dataDir],
    });
    while (!/renderer ready/.test(host.output())) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => {
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('renders on a Web Worker', async () => {
    expect(host.output()).toMatch(/renderer ready in \d+ ms: 1 worker, memory \d+ MiB, timeout 3000 ms, queue 1/);
    // The tests-only stall hook never goes unnoticed: start-up says so loudly.
    expect(host.output()).toMatch(/WARNING: RENDER_TEST_STALL_MS=60000 is set\. .*Never set it in production\./);
    const res = await host.get('/demo/hopper/64.webp');
    expect(res.status, host.output()).toBe(200);
    const img = await decodeToRgba(await bytesOf(res));
    expect([img.format, img.width, img.height]).toEqual(['webp', 64, 64]);
    // An animated GIF becomes an animated WebP there too (every frame decoded on the worker).
    const animated = await host.get('/demo/animated/64.webp');
    expect(animated.status, host.output()).toBe(200);
    const meta = await sharp(await bytesOf(animated), { animated: true }).metadata();
    expect([meta.pages, meta.width, meta.pageHeight, meta.delay]).toEqual([3, 64, 64, [100, 200, 300]]);
  });

  it('sheds renders past the queue with 503, stops the held ones at the deadline with 422, and keeps serving', async () => {
    // One renders, one waits, the other two find the queue full: whatever order they arrive in.
    const slow = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => host.get(`/demo/slow-${tag}/64.webp`)));
    const hit = await host.get('/demo/hopper/64.webp');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');

    const answers = await Promise.all(slow.map(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), cc: r.headers.get('cache-control'), code: (await r.json()).code })));
    expect(answers.map((a) => a.status).sort()).toEqual([422, 422, 503, 503]);
    for (const a of answers) {
      expect(a.cc).toBe('no-store');
      if (a.status === 503) expect([a.code, a.retry]).toEqual(['RENDER_QUEUE_FULL', expect.stringMatching(/^\d+$/)]);
      else expect(a.code).toBe('RENDER_TIMEOUT');
    }
    expect(host.output().match(/stopped at its 3000 ms deadline; render thread replaced/g)).toHaveLength(2);

    // A source that timed out is refused at once; the replaced worker renders the next one.
    const timedOut = slow.findIndex((r) => r.status === 422);
    const again = await host.get(`/demo/slow-${'abcd'[timedOut]}/96.webp`);
    expect(again.status).toBe(422);
    expect((await again.json()).code).toBe('RENDER_TIMEOUT');
    const next = await host.get('/demo/hopper/96.webp');
    expect(next.status, host.output()).toBe(200);
    const img = await decodeToRgba(await bytesOf(next));
    expect([img.width, img.height]).toEqual([96, 96]);
  });
});

describe('Deno host, RENDER_THREADS=0: the same scheduler on the main thread', () => {
  let host: DenoHost;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await dataDirWith('deno-data', [{ tenant: 'demo', id: 'free', file: join(SAMPLES, 'free.jpg') }]);
    host = await startDenoHost({
      entry: bundle.entry,
      env: { DATA_DIR: dataDir, AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { demo: {} } }), RENDER_THREADS: '0' },
      writable: [dataDir],
    });
    while (!/renderer ready/.test(host.output())) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => {
    await host?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('renders there, and later sizes of the same original come from its master', async () => {
    expect(host.output()).toMatch(/renderer ready in \d+ ms: main thread, memory 224 MiB, timeout 5000 ms, queue 4/);
    const first = await host.get('/demo/free/64.webp');
    expect(first.status, host.output()).toBe(200);
    expect(first.headers.get('server-timing')).toMatch(/decode;dur=(?!0\.0,)\d/);
    const second = await host.get('/demo/free/128.png');
    expect(second.status).toBe(200);
    // Served by the 1/8 decode the first render kept: no decode.
    expect(second.headers.get('server-timing')).toMatch(/decode;dur=0\.0,/);
    const img = await decodeToRgba(await bytesOf(second));
    expect([img.format, img.width, img.height]).toEqual(['png', 128, 128]);
  });
});

describe('Deno host start-up failures', () => {
  it('stops with every configuration problem listed, and no secret echoed', async () => {
    const { code, output } = await runDenoHostToExit({
      entry: bundle.entry,
      env: { MODE: 'renderer', PORT: 'x', STORAGE: 's3', AVATAR_CONFIG_JSON: '{"tenants": {"Bad Name": {}}}', ADMIN_TOKEN: 'leaky-admin-token' },
    });
    expect(code).toBe(1);
    expect(output).toContain('invalid configuration:');
    expect(output).toContain('MODE=renderer needs RENDER_SECRET');
    expect(output).toContain("PORT must be 0..65535, got 'x'");
    expect(output).toContain('S3_BUCKET');
    expect(output).toContain("tenant 'Bad Name'");
    expect(output).not.toContain('leaky-admin-token');
  });

  it.skipIf(!existsSync('/dev/shm'))('stops when its directory store is one Deno will not open (under /dev), instead of answering 500 to every image', async () => {
    const dataDir = await mkdtemp('/dev/shm/avatar-edge-deno-');
    try {
      const { code, output } = await runDenoHostToExit({ entry: bundle.entry, env: { DATA_DIR: dataDir, STORAGE: 'fs' }, writable: [dataDir] });
      expect(code).toBe(1);
      expect(output).toContain(`DATA_DIR ${dataDir} cannot be read:`);
      expect(output).toContain('--allow-all');
      expect(output).not.toMatch(/listening on/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('stops when a codec binary does not match the pinned manifest', async () => {
    const wasmDir = await mkdtemp(join(tmpdir(), 'avatar-edge-deno-wasm-'));
    try {
      await cp(join(bundle.dir, 'wasm'), wasmDir, { recursive: true });
      await writeFile(join(wasmDir, 'mozjpeg_enc.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      const { code, output } = await runDenoHostToExit({ entry: bundle.entry, env: { WASM_DIR: wasmDir } });
      expect(code).toBe(1);
      expect(output).toMatch(/codecs failed to start: .*mozjpeg_enc\.wasm: sha256 [0-9a-f]{64} does not match the manifest/);
    } finally {
      await rm(wasmDir, { recursive: true, force: true });
    }
  });
});
