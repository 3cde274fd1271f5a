import type { DeleteManyResult, ListPage, ObjectInfo, ObjectStore, PutOptions, ReplicatedStore, StoreReplica } from '../core/ports.js';
import { type ConditionalObjectStore, type GetOptions, type GetResult, getWithOptions } from './get-options.js';
import { isRetryableStorageError } from './storage-error.js';

export interface FailoverOptions {
  /** Called each time a read falls through to the secondary (for logs and metrics). */
  onFailover?: (operation: 'get' | 'head', key: string, error: unknown) => void;
}

/**
 * A primary store (e.g. the R2 hot copy) with an optional secondary (e.g. the S3 archive).
 *
 * - Reads go to the primary and fall through to the secondary only when the primary could
 *   not answer (a retryable StorageError: 5xx, throttling, timeout, connection error). A
 *   missing object is an answer: it does not fall through, or a takedown on the primary
 *   would be undone by a stale copy on the secondary.
 * - Writes go to the primary only (replication to the secondary is the bucket's business).
 * - Deletes go to both, so a takedown really removes everything; a failure on either fails.
 *   `deleteMany` too: each store gets one DeleteObjects (or a DELETE per key where it has no
 *   `deleteMany`), and a key counts as deleted only when both stores deleted it.
 * - Listing reads the primary: cursors are not portable between stores.
 * - `replicas()` addresses each store on its own: a takedown writes its tombstone to both (a
 *   read that falls over must find it there too), deletes from both and verifies both.
 */
export function createFailoverStore(primary: ObjectStore, secondary?: ObjectStore, opts: FailoverOptions = {}): ConditionalObjectStore & ReplicatedStore {
  const replicas: readonly StoreReplica[] = secondary
    ? [
        { name: 'primary', store: primary },
        { name: 'secondary', store: secondary },
      ]
    : [{ name: 'primary', store: primary }];
  async function read<T>(op: 'get' | 'head', key: string, run: (s: ObjectStore) => Promise<T>): Promise<T> {
    try {
      return await run(primary);
    } catch (e) {
      if (!secondary || !isRetryableStorageError(e)) throw e;
      opts.onFailover?.(op, key, e);
      return run(secondary);
    }
  }

  return {
    supportsGetOptions: true,

    replicas: () => replicas,

    get(key: string, getOpts?: GetOptions): Promise<GetResult | null> {
      return read('get', key, (s) => getWithOptions(s, key, getOpts));
    },

    head(key: string): Promise<ObjectInfo | null> {
      return read('head', key, (s) => s.head(key));
    },

    put(key: string, body: Uint8Array, putOpts?: PutOptions): Promise<void> {
      return primary.put(key, body, putOpts);
    },

    async delete(key: string): Promise<void> {
      const results = await Promise.allSettled([primary.delete(key), ...(secondary ? [secondary.delete(key)] : [])]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },

    async deleteMany(keys: string[]): Promise<DeleteManyResult> {
      const results = await Promise.all(
        replicas.map(async ({ name, store }) => {
          try {
            return { name, result: await deleteEach(store, keys) };
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            return { name, result: { deleted: [], failed: keys.map((key) => ({ key, error })) } };
          }
        }),
      );
      const failed = results.flatMap(({ name, result }) => result.failed.map((f) => ({ key: f.key, error: secondary ? `${name}: ${f.error}` : f.error })));
      const notDeleted = new Set(failed.map((f) => f.key));
      return { deleted: keys.filter((k) => !notDeleted.has(k)), failed };
    },

    list(prefix: string, listOpts?: { cursor?: string; limit?: number }): Promise<ListPage> {
      return primary.list(prefix, listOpts);
    },
  };
}

/** One DeleteObjects where the store has it, else a DELETE per key (each one's failure reported on its own). */
async function deleteEach(store: ObjectStore, keys: string[]): Promise<DeleteManyResult> {
  if (store.deleteMany) return store.deleteMany(keys);
  const settled = await Promise.allSettled(keys.map((k) => store.delete(k)));
  const result: DeleteManyResult = { deleted: [], failed: [] };
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') result.deleted.push(keys[i]!);
    else result.failed.push({ key: keys[i]!, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  return result;
}
