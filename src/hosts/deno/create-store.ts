import type { ObjectStore } from '../../core/ports.js';
import type { StorageConfig } from '../../storage/config.js';
import { createStore as createConfiguredStore, type StoreDeps } from '../../storage/create-store.js';
import { createFsStore } from '../../storage/fs-store.js';

/** The directory store's folder when DATA_DIR is not set (relative to the working directory). */
export const DEFAULT_DATA_DIR = '.data';

/**
 * The store the Deno host reads originals from: R2/S3 over fetch (SigV4) in a deployment, a
 * local directory for local runs (fs-store uses node:fs, which Deno provides; Deno Deploy's
 * file system is read-only, so the directory store is for local runs only).
 */
export function createStore(cfg: StorageConfig, log: (msg: string, err?: unknown) => void, wrap?: StoreDeps['wrap']): ObjectStore {
  return createConfiguredStore(cfg, {
    createFsStore: (dir) => createFsStore(dir ?? DEFAULT_DATA_DIR),
    onFailover: (op, key, err) => log(`storage ${op} ${key} failed over to the secondary`, err),
    ...(wrap ? { wrap } : {}),
  });
}
