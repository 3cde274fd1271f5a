import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageOfKey, originalKey } from '../../src/core/storage-keys.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { runStoreContract } from './store-contract.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'avatar-edge-fs-store-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

runStoreContract('fs-store (local directory)', () => createFsStore(dir));

describe('fs-store: every valid id is an object of its own', () => {
  // Ids may end in anything the id charset allows, including what the store's own files once used.
  const ids = ['u-1', 'u-1.meta.json', 'u-1.tmp', 'u-1.123.abc.tmp', 'u-1.meta'];

  it('stores, lists and deletes ids ending in .tmp or .meta.json like any other', async () => {
    const store = createFsStore(join(dir, 'reserved'));
    for (const id of ids) await store.put(originalKey('acme', id), new TextEncoder().encode(id), { contentType: 'image/jpeg', metadata: { id: id.replace(/\./g, '-') } });
    const listed = (await store.list('originals/acme/')).keys.map((k) => imageOfKey(k)?.id).sort();
    expect(listed).toEqual([...ids].sort());
    for (const id of ids) {
      const got = await store.get(originalKey('acme', id));
      expect(new TextDecoder().decode(got!.body)).toBe(id);
      expect(got!.metadata).toEqual({ id: id.replace(/\./g, '-') });
    }
    await store.delete(originalKey('acme', 'u-1'));
    expect((await store.list('originals/acme/')).keys.map((k) => imageOfKey(k)?.id).sort()).toEqual(ids.filter((i) => i !== 'u-1').sort());
    for (const id of ids) await store.delete(originalKey('acme', id));
    expect((await store.list('')).keys).toEqual([]);
    // Nothing is left behind either: no sidecar, no temp file.
    for (const id of ids) expect(await readdir(join(dir, 'reserved', originalKey('acme', id), '..'))).toEqual([]);
  });

  it('reads a directory written with the old `.meta.json` sidecars: metadata kept, sidecars not listed', async () => {
    const root = join(dir, 'legacy');
    const key = originalKey('acme', 'old-1');
    await mkdir(join(root, key, '..'), { recursive: true });
    await writeFile(join(root, key), 'bytes');
    await writeFile(join(root, `${key}.meta.json`), JSON.stringify({ contentType: 'image/png', metadata: { version: '3' } }));
    const store = createFsStore(root);
    expect((await store.list('')).keys).toEqual([key]);
    expect(await store.head(key)).toMatchObject({ size: 5, contentType: 'image/png', metadata: { version: '3' } });
    await store.delete(key);
    expect(await readdir(join(root, key, '..'))).toEqual([]);
  });

  it('refuses keys with a segment starting with "." (the store’s own names)', async () => {
    const store = createFsStore(join(dir, 'reserved'));
    await expect(store.put('originals/acme/00/.u-1.meta', new Uint8Array([1]))).rejects.toThrow(/start with "\."/);
  });

  it('writes into a directory removed since its last write, and leaves no temporary file behind', async () => {
    const root = join(dir, 'removed');
    const store = createFsStore(root);
    await store.put('variants/acme/00/u-1/a.webp', new Uint8Array([1]), { contentType: 'image/webp' });
    await rm(join(root, 'variants'), { recursive: true });
    await store.put('variants/acme/00/u-1/b.webp', new Uint8Array([2]), { contentType: 'image/webp', metadata: { etag: 'x' } });
    const got = await store.get('variants/acme/00/u-1/b.webp');
    expect([...(got?.body ?? [])]).toEqual([2]);
    expect(got?.metadata).toEqual({ etag: 'x' });
    expect((await readdir(join(root, 'variants/acme/00/u-1'))).sort()).toEqual(['.b.webp.meta', 'b.webp']);
  });
});
