import type { ObjectStore } from '../../core/ports.js';
import { type EnvRecord, type StorageConfig, loadStorageConfig } from '../../storage/config.js';
import { createStore, type StoreDeps } from '../../storage/create-store.js';
import { createFsStore } from '../../storage/fs-store.js';
import { REPO_ROOT } from './create-node-app.js';

export interface NodeStore {
  store: ObjectStore;
  config: StorageConfig;
}

/**
 * The store `npm start` and the CLIs use, from the environment (docs/storage.md): a directory
 * (`.data` in the repository unless DATA_DIR says otherwise) by default, an S3/R2 bucket —
 * with an optional failover secondary — when STORAGE=s3. Throws ConfigError with every problem.
 */
export function createNodeStore(env: EnvRecord, log?: (msg: string, err?: unknown) => void, wrap?: StoreDeps['wrap']): NodeStore {
  const config = loadStorageConfig(env);
  const store = createStore(config, {
    createFsStore: (dir) => createFsStore(dir ?? `${REPO_ROOT}.data`),
    onFailover: (op, key, err) => log?.(`storage ${op} ${key} failed over to the secondary`, err),
    ...(wrap ? { wrap } : {}),
  });
  return { store, config };
}
