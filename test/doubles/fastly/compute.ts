import { coreCacheDouble } from './cache.js';

/** Test double of `fastly:compute`: records purges and applies them to the CoreCache double. */
export const purgeCalls: { key: string; soft: boolean }[] = [];

export function purgeSurrogateKey(key: string, soft = false): void {
  purgeCalls.push({ key, soft });
  coreCacheDouble.purge(key, soft);
}

/** What vCpuTime() answers: like a reused sandbox's, it only grows (tests move it on; reset puts it back to 0). */
export const cpuClock = { ms: 0 };

export function vCpuTime(): number {
  return cpuClock.ms;
}
