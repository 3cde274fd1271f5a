import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { originalKey, variantPrefix } from '../../src/core/storage-keys.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createNodeStore } from '../../src/hosts/node/node-store.js';
import { S3RVER_KEY, type S3rverHandle, startS3rver } from '../storage/s3rver.js';
import { countingRenderer } from '../support/node-host.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_TOKEN = 'admin-token-for-s3-tests-0123456789abcdef';

/** Starts `src/hosts/node/main.ts` (what `npm start` runs) with `env`; resolves with its URL and output. */
async function startMain(env: Record<string, string>): Promise<{ url: string; output: () => string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main.ts did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`main.ts exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// The Node host on a real S3-compatible server: the original comes from the bucket, the
// rendered variant goes back into it, and a cold process serves it from there without rendering.
describe('Node host with STORAGE=s3 (s3rver)', () => {
  let s3: S3rverHandle;
  let env: Record<string, string>;
  let host: Awaited<ReturnType<typeof startNodeApp>>;
  const { counter, wrap } = countingRenderer();

  beforeAll(async () => {
    s3 = await startS3rver(['avatars']);
    env = { STORAGE: 's3', S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'avatars', S3_ACCESS_KEY_ID: S3RVER_KEY.accessKeyId, S3_SECRET_ACCESS_KEY: S3RVER_KEY.secretAccessKey };
    const { store, config } = createNodeStore(env);
    expect(config.kind).toBe('s3');
    await store.put(originalKey('demo', 'hopper-s3'), new Uint8Array(await readFile(`${ROOT}samples/demo/hopper.jpg`)), { contentType: 'image/jpeg' });
    host = await startNodeApp({
      config: loadServiceConfig({ tenants: { demo: {} }, admin: { tokens: { ops: ADMIN_TOKEN } } }),
      store,
      samplesDir: null,
      log: () => {},
      wrapRenderer: wrap,
    });
  });
  afterAll(async () => {
    await host?.close();
    await s3?.stop();
  });

  const get = (path: string) => fetch(host.url + path);

  it('renders from an original in the bucket and writes the variant back to it', async () => {
    const first = await get('/demo/hopper-s3/128.webp');
    expect(first.status).toBe(200);
    expect(first.headers.get('server-timing')).toMatch(/decode;dur=/);
    expect(counter.renders).toBe(1);
    expect((await host.store.list(variantPrefix('demo', 'hopper-s3'))).keys).toEqual([`${variantPrefix('demo', 'hopper-s3')}128x128-cover-q75.webp`]);

    // With the cache purged, the variant comes from the bucket: same bytes, no render.
    await host.cache.purge(['i:demo/hopper-s3'], false);
    const again = await get('/demo/hopper-s3/128.webp');
    expect(again.headers.get('x-cache')).toBe('MISS');
    expect(again.headers.get('server-timing')).not.toMatch(/decode;dur=/);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(counter.renders).toBe(1);
  });

  it('stores uploads in the bucket, with their metadata', async () => {
    const body = await readFile(`${ROOT}samples/demo/mysha.png`);
    const res = await fetch(`${host.url}/_upload/demo/up-s3`, { method: 'PUT', body, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ version: 1, format: 'png', variants: 20, failed: 0 });
    const again = await fetch(`${host.url}/_upload/demo/up-s3`, { method: 'PUT', body, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await again.json()).toMatchObject({ version: 2, variants: 20 });
    expect((await host.store.head(originalKey('demo', 'up-s3')))?.metadata).toMatchObject({ version: '2', 'uploaded-by': 'admin:ops', alpha: '1' });
    expect((await host.store.list(variantPrefix('demo', 'up-s3'))).keys).toHaveLength(20);
  });

  it('`npm start` (main.ts) reads STORAGE=s3 from the environment, seeds nothing, and serves stored variants cold', async () => {
    const main = await startMain({ ...env, PORT: '0', AVATAR_CONFIG: '' });
    try {
      expect(main.output()).toContain(`storage: s3 ${s3.endpoint} bucket avatars`);
      const res = await fetch(`${main.url}/demo/hopper-s3/128.webp`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('MISS');
      // A cold process with an empty cache: no decode, the bytes came from the variant store.
      expect(res.headers.get('server-timing')).not.toMatch(/decode;dur=/);
      const pre = await fetch(`${main.url}/demo/up-s3/64.png`);
      expect([pre.status, pre.headers.get('server-timing')?.includes('decode')]).toEqual([200, false]);
    } finally {
      await main.stop();
    }
    const originals = (await host.store.list('originals/')).keys.map((k) => k.split('/').pop());
    expect(originals.sort()).toEqual(['hopper-s3', 'up-s3']);
  });
});
