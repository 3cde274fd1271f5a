import type { ObjectStore } from './ports.js';
import { tombstoneKey } from './storage-keys.js';

/** Why an image is gone. Stored as JSON at tombstoneKey(tenant, id). */
export interface Tombstone {
  tenant: string;
  id: string;
  action: 'takedown' | 'erase';
  reason: string;
  ticket: string;
  /** ISO 8601. */
  when: string;
  /** The admin token id that asked for it. */
  who: string;
}

/**
 * Whether {tenant}/{id} was taken down. Uploads must refuse a tombstoned id (a takedown is
 * only reversed by an admin restore, never by re-uploading the same id).
 */
export async function isTombstoned(store: ObjectStore, tenant: string, id: string): Promise<boolean> {
  return (await store.head(tombstoneKey(tenant, id))) !== null;
}

export async function readTombstone(store: ObjectStore, tenant: string, id: string): Promise<Tombstone | null> {
  const obj = await store.get(tombstoneKey(tenant, id));
  if (!obj) return null;
  try {
    return JSON.parse(new TextDecoder().decode(obj.body)) as Tombstone;
  } catch {
    // Still a tombstone: its presence is what counts, the body is for humans.
    return { tenant, id, action: 'takedown', reason: '(unreadable tombstone)', ticket: '', when: '', who: '' };
  }
}

export async function writeTombstone(store: ObjectStore, t: Tombstone): Promise<string> {
  const key = tombstoneKey(t.tenant, t.id);
  await store.put(key, new TextEncoder().encode(JSON.stringify(t)), { contentType: 'application/json' });
  return key;
}
