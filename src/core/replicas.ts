import type { ObjectStore, ReplicatedStore, StoreReplica } from './ports.js';

/** Every store that can serve an object of `store`, primary first; a plain store is its own primary. */
export function replicasOf(store: ObjectStore): readonly StoreReplica[] {
  const replicated = store as Partial<ReplicatedStore>;
  return typeof replicated.replicas === 'function' ? replicated.replicas() : [{ name: 'primary', store }];
}
