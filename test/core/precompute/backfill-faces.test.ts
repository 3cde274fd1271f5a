/**
 * Precompute for a tenant with face crops: its standard variants carry the tenant's gravity,
 * the original's focal point is found by one render, stored, and reused by every other.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { decodeFocalRecord, focalKey } from '../../../src/core/focal-point.js';
import { backfillTenant } from '../../../src/core/precompute/backfill.js';
import type { Renderer } from '../../../src/core/ports.js';
import { originalKey, variantPrefix } from '../../../src/core/storage-keys.js';
import { loadFaceDetector } from '../../../src/hosts/node/face-model.js';
import { createFocalFinder } from '../../../src/render/focal/find-focal.js';
import { codecModules, renderer as makeRenderer } from '../../render/helpers.js';
import { createMemoryStore } from '../../support/memory-store.js';

describe('backfill with g=auto', () => {
  it('finds the focal point once per original and names the variants with the gravity', async () => {
    const { store, keys } = createMemoryStore();
    const tenant = loadServiceConfig({ tenants: { faces: { gravity: 'auto' } } }).tenants.get('faces')!;
    const source = new Uint8Array(readFileSync(new URL('../../fixtures/faces/hopper-right.jpg', import.meta.url)));
    await store.put(originalKey('faces', 'p'), source, { metadata: { alpha: '0' } });
    const find = createFocalFinder(await loadFaceDetector((await codecModules()).faceNet));
    let detections = 0;
    const jsquash = await makeRenderer({ findFocal: (img, o) => (detections++, find(img, o)) });
    const renderer: Renderer = { render: (src, v) => jsquash.render(src, v) };

    const report = await backfillTenant({ store, renderer, tenant, sizes: [64, 128, 256], formats: ['webp'], concurrency: 2 });
    expect(report).toMatchObject({ images: 1, rendered: 3, failed: [] });
    expect(detections).toBe(1);
    const names = keys(variantPrefix('faces', 'p'))
      .map((k) => k.slice(variantPrefix('faces', 'p').length))
      .sort();
    expect(names).toEqual(['128x128-cover-gauto-q75.webp', '256x256-cover-gauto-q75.webp', '64x64-cover-gauto-q75.webp', 'focal.json']);
    const record = decodeFocalRecord((await store.get(focalKey('faces', 'p')))!.body);
    expect(record?.face?.x).toBeGreaterThan(0.5);
  }, 60_000);
});
