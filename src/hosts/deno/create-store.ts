import type { ObjectStore } from '../../core/ports.js';
import type { StorageConfig } from '../../storage/config.js';
import { createFailoverStore } from '../../storage/failover-store.js';
import { createFsStore } from '../../storage/fs-store.js';
import { createS3Store } from '../../storage/s3-store.js';

/**
 * The store the Deno host reads originals from: R2/S3 over fetch (SigV4) in a deployment, a
 * local directory for local runs (fs-store uses node:fs, which Deno provides; Deno Deploy's
 * file system is read-only, so the directory store is for local runs only).
 */
export function createStore(cfg: StorageConfig, log: (msg: string, err?: unknown) => void): ObjectStore {
  if (cfg.kind === 'fs') return createFsStore(cfg.dataDir ?? '.data');
  const primary = createS3Store(cfg.primary);
  if (!cfg.secondary) return primary;
  return createFailoverStore(primary, createS3Store(cfg.secondary), {
    onFailover: (op, key, err) => log(`storage ${op} ${key} failed over to the secondary`, err),
  });
}
