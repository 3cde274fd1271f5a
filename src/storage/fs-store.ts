import { mkdir, readFile, rm, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ListPage, ObjectInfo, ObjectStore, PutOptions, StoredObject } from '../core/ports.js';

/**
 * A local directory with the same key layout as the bucket: the embedded default for
 * `npm start` and tests. Metadata lives in a `.meta.json` sidecar next to each object.
 */
export function createFsStore(rootDir: string): ObjectStore {
  const root = resolve(rootDir);

  // Keys come from storage-keys.ts, but the store still refuses anything that would leave root.
  const pathOf = (key: string): string => {
    if (!key || key.includes('\0') || key.split('/').some((s) => s === '..' || s === '.' || s === '') || key.includes('\\')) {
      throw new Error(`invalid object key: ${JSON.stringify(key)}`);
    }
    const p = resolve(root, key);
    if (!p.startsWith(root + sep)) throw new Error(`object key escapes the store: ${JSON.stringify(key)}`);
    return p;
  };
  const metaPath = (p: string) => `${p}.meta.json`;

  async function readMeta(p: string): Promise<{ contentType?: string; metadata?: Record<string, string> }> {
    try {
      return JSON.parse(await readFile(metaPath(p), 'utf8'));
    } catch {
      return {};
    }
  }

  async function atomicWrite(p: string, data: Uint8Array | string): Promise<void> {
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, p);
  }

  return {
    async get(key: string): Promise<StoredObject | null> {
      const p = pathOf(key);
      let body: Buffer;
      try {
        body = await readFile(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return null;
        throw e;
      }
      const meta = await readMeta(p);
      return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), ...meta };
    },

    async head(key: string): Promise<ObjectInfo | null> {
      const p = pathOf(key);
      try {
        const s = await stat(p);
        if (!s.isFile()) return null;
        return { size: s.size, ...(await readMeta(p)) };
      } catch {
        return null;
      }
    },

    async put(key: string, body: Uint8Array, opts: PutOptions = {}): Promise<void> {
      const p = pathOf(key);
      // Sidecar first: a reader that sees the new body also sees its metadata.
      await atomicWrite(metaPath(p), JSON.stringify({ contentType: opts.contentType, metadata: opts.metadata ?? {} }));
      await atomicWrite(p, body);
    },

    async delete(key: string): Promise<void> {
      const p = pathOf(key);
      await rm(p, { force: true });
      await rm(metaPath(p), { force: true });
    },

    async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
      const limit = opts.limit ?? 1000;
      const all: string[] = [];
      async function walk(dir: string, rel: string): Promise<void> {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const k = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) {
            // Only descend where the prefix can still match.
            if (k.startsWith(prefix) || prefix.startsWith(k + '/')) await walk(join(dir, e.name), k);
          } else if (!e.name.endsWith('.meta.json') && !e.name.endsWith('.tmp') && k.startsWith(prefix)) {
            all.push(k);
          }
        }
      }
      await walk(root, '');
      all.sort();
      const start = opts.cursor ? all.findIndex((k) => k > opts.cursor!) : 0;
      const from = start < 0 ? all.length : start;
      const keys = all.slice(from, from + limit);
      const more = from + limit < all.length;
      return more ? { keys, cursor: keys[keys.length - 1]! } : { keys };
    },
  };
}
