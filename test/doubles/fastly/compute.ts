import { coreCacheDouble } from './cache.js';

/** Test double of `fastly:compute`: records purges and applies them to the CoreCache double. */
export const purgeCalls: { key: string; soft: boolean }[] = [];

export function purgeSurrogateKey(key: string, soft = false): void {
  purgeCalls.push({ key, soft });
  coreCacheDouble.purge(key, soft);
}

export function vCpuTime(): number {
  return 0;
}
