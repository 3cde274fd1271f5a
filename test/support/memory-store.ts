import type { ListPage, ObjectInfo, ObjectStore, PutOptions, StoredObject } from '../../src/core/ports.js';

/** An ObjectStore in a Map, for unit tests of the core (same list semantics as the bucket). */
export function createMemoryStore() {
  const objects = new Map<string, StoredObject>();
  const store: ObjectStore = {
    async get(key) {
      const o = objects.get(key);
      return o ? { ...o, body: o.body.slice() } : null;
    },
    async head(key): Promise<ObjectInfo | null> {
      const o = objects.get(key);
      return o ? { size: o.body.byteLength, contentType: o.contentType, metadata: o.metadata } : null;
    },
    async put(key, body, opts: PutOptions = {}) {
      objects.set(key, { body: body.slice(), contentType: opts.contentType, metadata: opts.metadata });
    },
    async delete(key) {
      objects.delete(key);
    },
    async list(prefix, opts = {}): Promise<ListPage> {
      const limit = opts.limit ?? 1000;
      const all = [...objects.keys()].filter((k) => k.startsWith(prefix) && (!opts.cursor || k > opts.cursor)).sort();
      const keys = all.slice(0, limit);
      return all.length > limit ? { keys, cursor: keys[keys.length - 1]! } : { keys };
    },
  };
  return { store, objects, keys: (prefix = '') => [...objects.keys()].filter((k) => k.startsWith(prefix)).sort() };
}
