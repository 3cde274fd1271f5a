import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantPrefix } from '../../src/core/storage-keys.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { buildDenoBundle, type DenoHost, startDenoHost } from '../support/deno-host.js';

const UPLOAD_TOKEN = 'deno-upload-token-0123456789abcdef';

// Uploads live in src/core and src/http: the Deno host serves them with no code of its own.
describe('Deno host: PUT /_upload', () => {
  let bundle: Awaited<ReturnType<typeof buildDenoBundle>>;
  let host: DenoHost;
  let dataDir: string;

  beforeAll(async () => {
    bundle = await buildDenoBundle();
    dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-deno-upload-'));
    host = await startDenoHost({
      entry: bundle.entry,
      env: { DATA_DIR: dataDir, AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { demo: { uploadTokens: { app: UPLOAD_TOKEN } } } }) },
      writable: [dataDir],
    });
  });
  afterAll(async () => {
    await host?.stop();
    await bundle?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores the original, precomputes the standard variants, then serves them without rendering', async () => {
    const body = await readFile(new URL('../../samples/demo/hopper.jpg', import.meta.url));
    const refused = await fetch(`${host.url}/_upload/demo/u-1`, { method: 'PUT', body });
    expect(refused.status).toBe(401);
    const res = await fetch(`${host.url}/_upload/demo/u-1`, { method: 'PUT', body, headers: { authorization: `Bearer ${UPLOAD_TOKEN}` } });
    expect(res.status, host.output()).toBe(201);
    expect(await res.json()).toMatchObject({ tenant: 'demo', id: 'u-1', version: 1, format: 'jpeg', variants: 20, failed: 0 });
    expect((await createFsStore(dataDir).list(variantPrefix('demo', 'u-1'))).keys).toHaveLength(20);

    const img = await host.get('/demo/u-1/128.webp');
    expect(img.status).toBe(200);
    expect(img.headers.get('server-timing')).not.toMatch(/decode;dur=/);
  });
});
