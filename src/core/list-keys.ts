import type { ObjectStore } from './ports.js';

/** Every key under `prefix`, page by page (1000 a page: S3's maximum). */
export async function* listKeys(store: ObjectStore, prefix: string): AsyncGenerator<string> {
  let cursor: string | undefined;
  do {
    const page = await store.list(prefix, { cursor, limit: 1000 });
    yield* page.keys;
    cursor = page.cursor;
  } while (cursor);
}

/** Every key under `prefix`, collected. */
export async function listAllKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of listKeys(store, prefix)) keys.push(k);
  return keys;
}
