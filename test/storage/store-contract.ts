import { beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/core/ports.js';
import { originalKey, variantPrefix } from '../../src/core/storage-keys.js';

/**
 * What every ObjectStore must do, run against each implementation (fs-store.test.ts,
 * s3-store.test.ts). `makeStore` is called once, after the caller's own beforeAll (so a
 * server started there is up); each test works under its own key prefix, so one store
 * instance serves them all and order does not matter.
 */
export interface ContractOptions {
  /** Why this server's multi-object delete cannot be tested (it is then skipped, with the reason in the test name). */
  deleteManyBroken?: string;
}

export function runStoreContract(name: string, makeStore: () => ObjectStore | Promise<ObjectStore>, opts: ContractOptions = {}): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let n = 0;
    const run = Math.random().toString(36).slice(2, 8);
    /** A fresh namespace per test. */
    const ns = () => `contract-${run}/t${++n}`;

    beforeAll(async () => {
      store = await makeStore();
    });

    it('round-trips binary bytes with content type and metadata', async () => {
      const key = `${ns()}/all-bytes`;
      const body = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      await store.put(key, body, { contentType: 'image/webp', metadata: { version: '3', 'source-format': 'jpeg' } });
      const got = await store.get(key);
      expect(got).not.toBeNull();
      expect(got!.body).toBeInstanceOf(Uint8Array);
      expect(Array.from(got!.body)).toEqual(Array.from(body));
      expect(got!.contentType).toBe('image/webp');
      expect(got!.metadata).toEqual({ version: '3', 'source-format': 'jpeg' });
    });

    it('gives each get a body of its own (owned): handing it over leaves the stored object whole', async () => {
      const key = `${ns()}/owned`;
      const body = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 256);
      await store.put(key, body);
      const first = await store.get(key);
      expect(first!.owned).toBe(true);
      // What a render thread taking the source over does to the caller's buffer (render/scheduler/pool.ts).
      structuredClone(first!.body.buffer, { transfer: [first!.body.buffer as ArrayBuffer] });
      expect(first!.body.byteLength).toBe(0);
      const second = await store.get(key);
      expect(Array.from(second!.body)).toEqual(Array.from(body));
    });

    it('answers null for a missing key, on get and head', async () => {
      const key = `${ns()}/never-written`;
      expect(await store.get(key)).toBeNull();
      expect(await store.head(key)).toBeNull();
    });

    it('heads an object: size, content type, metadata, no body', async () => {
      const key = `${ns()}/headed`;
      await store.put(key, new Uint8Array(1234).fill(7), { contentType: 'image/png', metadata: { width: '96' } });
      const info = await store.head(key);
      expect(info).toMatchObject({ size: 1234, contentType: 'image/png', metadata: { width: '96' } });
      expect(info).not.toHaveProperty('body');
    });

    it('overwrites: the last put wins, metadata is replaced, not merged', async () => {
      const key = `${ns()}/overwritten`;
      await store.put(key, new Uint8Array([1, 2, 3]), { contentType: 'image/jpeg', metadata: { a: '1' } });
      await store.put(key, new Uint8Array([9]), { contentType: 'image/png', metadata: { b: '2' } });
      const got = await store.get(key);
      expect(Array.from(got!.body)).toEqual([9]);
      expect(got!.contentType).toBe('image/png');
      expect(got!.metadata).toEqual({ b: '2' });
      expect((await store.head(key))!.size).toBe(1);
    });

    it('round-trips an empty object', async () => {
      const key = `${ns()}/empty`;
      await store.put(key, new Uint8Array(0), { contentType: 'application/octet-stream' });
      expect((await store.get(key))!.body.byteLength).toBe(0);
      expect((await store.head(key))!.size).toBe(0);
    });

    it('deletes, and deleting again (or a key never written) is not an error', async () => {
      const key = `${ns()}/deleted`;
      await store.put(key, new Uint8Array([1]));
      await store.delete(key);
      expect(await store.get(key)).toBeNull();
      expect(await store.head(key)).toBeNull();
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(`${ns()}/never-written`)).resolves.toBeUndefined();
    });

    it.skipIf(!!opts.deleteManyBroken)(
      `deletes many keys at once where the store can (missing keys count as deleted)${opts.deleteManyBroken ? ` [skipped: ${opts.deleteManyBroken}]` : ''}`,
      async (ctx) => {
        if (!store.deleteMany) return ctx.skip();
        const base = ns();
        const keys = ['a', 'b.webp', 'c-1'].map((k) => `${base}/many/${k}`);
        const keep = `${base}/many-kept`;
        await Promise.all([...keys, keep].map((k) => store.put(k, new Uint8Array([1]))));
        const r = await store.deleteMany([...keys, `${base}/many/never-written`]);
        expect(r.failed).toEqual([]);
        expect(r.deleted.sort()).toEqual([...keys, `${base}/many/never-written`].sort());
        for (const k of keys) expect(await store.head(k)).toBeNull();
        expect(await store.head(keep)).not.toBeNull();
        expect((await store.list(`${base}/many/`)).keys).toEqual([]);
        expect(await store.deleteMany([])).toEqual({ deleted: [], failed: [] });
      },
    );

    it('lists by prefix in key order, two at a time over five keys, with a cursor', async () => {
      const base = ns();
      const keys = ['a', 'b.webp', 'c-1', 'd_2', 'e'].map((k) => `${base}/list/${k}`);
      // Neighbours that share the string prefix without the slash, or sit outside it, must not show up.
      const others = [`${base}/list-other/x`, `${base}/lis`, `${base}/z`];
      await Promise.all([...keys, ...others].map((k) => store.put(k, new Uint8Array([1]))));

      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(`${base}/list/`, { limit: 2, ...(cursor ? { cursor } : {}) });
        pages.push(page.keys);
        cursor = page.cursor;
        expect(pages.length).toBeLessThanOrEqual(5);
      } while (cursor);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(keys);

      const all = await store.list(`${base}/list/`);
      expect(all.keys).toEqual(keys);
      expect(all.cursor).toBeUndefined();
    });

    it('lists nothing, with no cursor, under an empty prefix', async () => {
      expect(await store.list(`${ns()}/nothing-here/`, { limit: 2 })).toEqual({ keys: [] });
    });

    it('handles the real key layout: shards, dots, dashes, underscores', async () => {
      const original = `${ns()}/${originalKey('acme', 'u-42.profile_v2')}`;
      const variant = `${ns()}/${variantPrefix('acme', 'Jane.Doe-1')}w320-h320-cover-webp-q75`;
      for (const key of [original, variant]) {
        await store.put(key, new TextEncoder().encode(key), { contentType: 'text/plain' });
        expect(new TextDecoder().decode((await store.get(key))!.body)).toBe(key);
      }
      const prefix = original.slice(0, original.lastIndexOf('/') + 1);
      expect((await store.list(prefix)).keys).toEqual([original]);
    });

    it('round-trips a 1 MB object byte for byte', async () => {
      const key = `${ns()}/large.jpg`;
      const body = new Uint8Array(1024 * 1024);
      let x = 0x9e3779b9;
      for (let i = 0; i < body.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        body[i] = x & 0xff;
      }
      await store.put(key, body, { contentType: 'image/jpeg' });
      const got = await store.get(key);
      expect(got!.body.byteLength).toBe(body.byteLength);
      expect(Buffer.compare(Buffer.from(got!.body), Buffer.from(body))).toBe(0);
      expect((await store.head(key))!.size).toBe(body.byteLength);
    });

    it('refuses keys that would escape or be rewritten', async () => {
      for (const key of ['', `${ns()}/../escape`, `${ns()}/./dot`]) {
        await expect(store.get(key)).rejects.toThrow();
        await expect(store.put(key, new Uint8Array([1]))).rejects.toThrow();
      }
    });
  });
}
