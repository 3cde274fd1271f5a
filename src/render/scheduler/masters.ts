/**
 * The masters kept for every thread (render/master.ts), by source hash, least recently used
 * first to go. Their bytes count against the same memory budget as renders in flight
 * (admission.ts): idle budget holds masters, and a render that needs the room evicts them.
 * Pixels live in plain ArrayBuffers moved here from the thread that decoded them; a render
 * from a master gets a copy (a few MB, garbage on that thread afterwards). Not shared memory:
 * V8 does not count a dropped SharedArrayBuffer towards collection, so evicted masters stayed
 * resident (first-touch load: 350 MB over the cap) where plain ones are collected promptly.
 */
import { toImageData } from '../image-data.js';
import type { Master } from '../master.js';
import type { MasterMessage } from './protocol.js';

export interface KeptMaster extends Master {
  bytes: number;
}

export interface MasterStore {
  /** The master for `key`, marked as just used. */
  get(key: string): KeptMaster | undefined;
  /**
   * Keeps `m` unless a finer one (smaller factor: serves more variants) is kept already, or it
   * would not fit `maxBytes`; `room(bytes)` makes room in the memory budget (evicting other
   * masters) and says whether it could.
   */
  offer(key: string, m: MasterMessage, room: (bytes: number) => boolean): boolean;
  /** Drops least recently used masters until `bytes` are freed (or none is left); returns bytes freed. */
  evict(bytes: number): number;
  clear(): void;
  readonly bytes: number;
  readonly size: number;
}

export function createMasterStore(maxBytes: number): MasterStore {
  const kept = new Map<string, KeptMaster>(); // insertion order = recency
  let total = 0;

  const drop = (key: string): number => {
    const m = kept.get(key);
    if (!m) return 0;
    kept.delete(key);
    total -= m.bytes;
    return m.bytes;
  };

  return {
    get(key) {
      const m = kept.get(key);
      if (m) {
        kept.delete(key);
        kept.set(key, m);
      }
      return m;
    },
    offer(key, m, room) {
      const bytes = m.data.byteLength;
      const old = kept.get(key);
      if (old && old.factor < m.factor) return false;
      if (bytes > maxBytes) return false;
      drop(key); // a coarser master of the same source: the new one serves all it did
      for (const k of kept.keys()) {
        if (total + bytes <= maxBytes) break;
        drop(k);
      }
      if (!room(bytes)) return false;
      kept.set(key, { image: toImageData(m.data, m.width, m.height), factor: m.factor, info: m.info, bytes });
      total += bytes;
      return true;
    },
    evict(bytes) {
      let freed = 0;
      for (const k of kept.keys()) {
        if (freed >= bytes) break;
        freed += drop(k);
      }
      return freed;
    },
    clear() {
      kept.clear();
      total = 0;
    },
    get bytes() {
      return total;
    },
    get size() {
      return kept.size;
    },
  };
}
