/**
 * What a server process costs, read from Linux's /proc: resident memory now (VmRSS) and at its
 * peak (VmHWM, kept by the kernel, so no sample can miss a spike), and CPU time used. Worker
 * threads are part of the process; nothing here needs the server's cooperation.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface Rss {
  /** Resident now, KB. */
  rssKb: number;
  /** Peak resident since the process started, KB. */
  hwmKb: number;
}

export function rssOf(pid: number): Rss | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(s);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(s);
    return rss && hwm ? { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) } : null;
  } catch {
    return null; // gone, or not Linux
  }
}

/** The fields of a /proc stat file after the command name (which is in parentheses and may contain spaces). */
function statFields(path: string): string[] | null {
  try {
    const stat = readFileSync(path, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone, or not Linux
  }
}

/** utime + stime in ms of a stat file's task. Clock ticks are 1/100 s on Linux. */
const cpuMsOfStat = (path: string): number => {
  const f = statFields(path);
  return f ? (Number(f[11]) + Number(f[12])) * 10 : NaN;
};

/** utime + stime of the whole process (all threads, those that ended included), in ms. */
export const cpuMsOf = (pid: number): number => cpuMsOfStat(`/proc/${pid}/stat`);

/** utime + stime of the process's main thread alone (a Node server's event loop), in ms. */
export const mainThreadCpuMsOf = (pid: number): number => cpuMsOfStat(`/proc/${pid}/task/${pid}/stat`);

/**
 * CPU of the process and of its child processes now running (nginx's workers, which serve its
 * requests), in ms: children are found by their parent pid in /proc.
 */
export function treeCpuMsOf(pid: number): number {
  let total = cpuMsOf(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(`/proc/${entry}/stat`);
    // f[1] is the parent pid; f[11], f[12] utime and stime.
    if (f && Number(f[1]) === pid) total += (Number(f[11]) + Number(f[12])) * 10;
  }
  return total;
}

/**
 * Waits until the process stops using CPU: less than `quietCpuMs` of CPU time in `windowMs`.
 * Returns performance.now() at the start of that quiet window, i.e. when the work ended
 * (give up at `maxMs`, returning NaN). A process that is runnable but waiting for a core
 * still accrues some CPU in a window this long on a loaded machine, so it is not taken for idle.
 */
export async function untilIdle(pid: number, o: { windowMs?: number; quietCpuMs?: number; maxMs?: number } = {}): Promise<number> {
  const windowMs = o.windowMs ?? 300;
  const quiet = o.quietCpuMs ?? 10;
  const give = performance.now() + (o.maxMs ?? 120_000);
  const step = 50;
  const samples: { t: number; cpu: number }[] = [];
  for (;;) {
    const t = performance.now();
    samples.push({ t, cpu: cpuMsOf(pid) });
    while (samples.length > 1 && t - samples[1]!.t >= windowMs) samples.shift();
    const first = samples[0]!;
    if (t - first.t >= windowMs && samples[samples.length - 1]!.cpu - first.cpu < quiet) return first.t;
    if (t > give || Number.isNaN(first.cpu)) return NaN;
    await new Promise((r) => setTimeout(r, step));
  }
}

export const mbOfKb = (kb: number): number => kb / 1024;
