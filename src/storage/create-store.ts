import type { ObjectStore } from '../core/ports.js';
import type { StorageConfig } from './config.js';
import { type FailoverOptions, createFailoverStore } from './failover-store.js';
import { type FetchFn, createS3Store } from './s3-store.js';

export interface StoreDeps {
  /** Hosts with a filesystem (Node) pass fs-store's factory; it stays out of this file so the file runs anywhere. */
  createFsStore?: (dataDir: string | undefined) => ObjectStore;
  /** A fetch per origin (Fastly: each bound to its own backend); the global fetch otherwise. */
  fetch?: { primary?: FetchFn; secondary?: FetchFn };
  onFailover?: FailoverOptions['onFailover'];
  /** Wraps each underlying store, named as the failover store names it (metrics time each one). */
  wrap?: (name: 'primary' | 'secondary', store: ObjectStore) => ObjectStore;
}

/** The configured store: a directory, one bucket, or a bucket with a failover secondary. */
export function createStore(cfg: StorageConfig, deps: StoreDeps = {}): ObjectStore {
  const wrap = deps.wrap ?? ((_name, store) => store);
  if (cfg.kind === 'fs') {
    if (!deps.createFsStore) throw new Error('STORAGE=fs needs a filesystem: this host supports STORAGE=s3 only');
    return wrap('primary', deps.createFsStore(cfg.dataDir));
  }
  const primary = wrap('primary', createS3Store(deps.fetch?.primary ? { ...cfg.primary, fetch: deps.fetch.primary } : cfg.primary));
  if (!cfg.secondary) return primary;
  const secondary = wrap('secondary', createS3Store(deps.fetch?.secondary ? { ...cfg.secondary, fetch: deps.fetch.secondary } : cfg.secondary));
  return createFailoverStore(primary, secondary, deps.onFailover ? { onFailover: deps.onFailover } : {});
}
