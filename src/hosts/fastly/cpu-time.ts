import { vCpuTime } from 'fastly:compute';

/**
 * vCPU time in ms (fastly:compute's vCpuTime), or undefined on a runtime without it. In a
 * reused sandbox (sandbox-reuse.ts) it counts from the sandbox's start, not the request's
 * (Viceroy 0.22 does so), so a request's own figure is the difference between a reading
 * taken when it starts and one taken when it ends: cpuSince.
 */
export function cpuNow(): number | undefined {
  try {
    return vCpuTime();
  } catch {
    return undefined;
  }
}

/** vCPU ms used since `start` (a cpuNow() reading), rounded to 0.01 ms; undefined when either reading is missing. */
export function cpuSince(start: number | undefined): number | undefined {
  const now = cpuNow();
  if (start === undefined || now === undefined) return undefined;
  return Math.max(0, Math.round((now - start) * 100) / 100);
}
