/**
 * Face-aware crops on the Deno host: the tiny face detector (the face kernel from the bundle's
 * wasm/, its weights from face/ next to the bundle) finds the face, the focal point is stored
 * next to the variants. Both ways the host renders: in a Web Worker (the default), and on the
 * main thread (RENDER_THREADS=0), each loading the detector on its first face crop.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFocalRecord, focalKey } from '../../src/core/focal-point.js';
import { buildDenoBundle, type DenoHost, startDenoHost } from '../support/deno-host.js';
import { dataDirWith } from '../support/data-dir.js';
import { decodeToRgba } from '../support/pixels.js';

const FIXTURES = new URL('../fixtures/faces/', import.meta.url).pathname;

describe.each([
  { where: 'a render worker', threads: undefined, banner: /renderer ready in \d+ ms: 1 worker/ },
  { where: 'the main thread', threads: '0', banner: /renderer ready in \d+ ms: main thread/ },
])('Deno host, face crops in $where', ({ threads, banner }) => {
  let bundle: Awaited<ReturnType<typeof buildDenoBundle>>;
  let host: DenoHost;
  let dataDir: string;

  beforeAll(async () => {
    bundle = await buildDenoBundle();
    dataDir = await dataDirWith('deno-faces', [{ tenant: 'faces', id: 'hopper-right', file: join(FIXTURES, 'hopper-right.jpg') }]);
    host = await startDenoHost({
      entry: bundle.entry,
      env: {
        DATA_DIR: dataDir,
        AVATAR_CONFIG_JSON: JSON.stringify({ tenants: { faces: { gravity: 'auto' } } }),
        ...(threads === undefined ? { RENDER_THREADS: '1' } : { RENDER_THREADS: threads }),
      },
      writable: [dataDir],
    });
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    await bundle?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('detects the face once, stores the focal point, and reuses it', async () => {
    const first = await host.get('/faces/hopper-right?w=128&h=128&fmt=png');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-variant')).toBe('faces/hopper-right/128x128-cover-gauto-q100.png');
    expect(first.headers.get('server-timing')).toMatch(/detect;dur=/);
    const img = await decodeToRgba(new Uint8Array(await first.arrayBuffer()));
    expect([img.width, img.height]).toEqual([128, 128]);
    const record = decodeFocalRecord(new Uint8Array(await readFile(join(dataDir, focalKey('faces', 'hopper-right')))));
    // hopper's face is in the right half of this 2:1 photo: found by the detector, not saliency.
    expect(record?.face?.x).toBeGreaterThan(0.5);
    expect(host.output()).not.toMatch(/face detector unavailable/);
    expect(host.output()).toMatch(banner);

    const second = await host.get('/faces/hopper-right?w=64&h=64&fmt=png');
    expect(second.status).toBe(200);
    expect(second.headers.get('server-timing')).not.toMatch(/detect;dur=/);
  }, 120_000);
});
