/**
 * Render-bound load on several servers at once, interleaved: the request list is cut into
 * rounds and every round goes to every server in turn, in a rotating order, so a noisy spell
 * on the shared machine lands on all of them rather than on one. Per server: the outcomes,
 * the time spent sending, the CPU time its process used for them, and its resident memory
 * before the load and at its peak.
 */
import { cpuMsOf, mainThreadCpuMsOf, mbOfKb, rssOf, untilIdle } from './proc.js';
import { type Outcome, percentile, runClosedLoop } from './requests.js';
import { ACCEPT, type Server } from './servers.js';

export interface ServerLoad {
  server: Server;
  outcomes: Outcome[];
  /** Sum of the rounds' wall times, s. */
  seconds: number;
  /** VmRSS before the first request, MB. */
  idleMb: number;
  /** VmHWM after the last request (the kernel's peak since start), MB. */
  peakMb: number;
  /** VmRSS right after the last request, MB. */
  afterMb: number;
  /**
   * CPU time of the server process, all threads, from before its first request until it went
   * quiet after its last, ms: less at the mercy of a busy machine than requests per second,
   * since a server waiting for a core accrues none (a slower core still shows).
   */
  cpuMs: number;
  /**
   * The same for the main thread alone (Node's and Deno's event loop: HTTP, storage, the
   * scheduler; ipx's too, its libvips threads doing the images), ms. The rest of `cpuMs` is
   * render or libvips threads, the collector's and the thread pool's.
   */
  mainCpuMs: number;
}

export async function interleavedLoad(servers: readonly Server[], paths: (s: Server) => readonly string[], o: { concurrency: number; round: number }): Promise<ServerLoad[]> {
  const lists = servers.map(paths);
  const loads: ServerLoad[] = servers.map((server) => ({ server, outcomes: [], seconds: 0, idleMb: mbOfKb(rssOf(server.pid)?.rssKb ?? NaN), peakMb: NaN, afterMb: NaN, cpuMs: NaN, mainCpuMs: NaN }));
  const cpuAtStart = servers.map((s) => cpuMsOf(s.pid));
  const mainAtStart = servers.map((s) => mainThreadCpuMsOf(s.pid));
  const n = Math.max(...lists.map((l) => l.length));
  for (let r = 0, start = 0; start < n; r++, start += o.round) {
    for (let i = 0; i < servers.length; i++) {
      const k = (i + r) % servers.length;
      const s = servers[k]!;
      const run = await runClosedLoop(s.url, lists[k]!.slice(start, start + o.round), { concurrency: o.concurrency, headers: { accept: ACCEPT } });
      loads[k]!.outcomes.push(...run.outcomes);
      loads[k]!.seconds += run.seconds;
    }
  }
  for (const l of loads) {
    const r = rssOf(l.server.pid);
    l.peakMb = mbOfKb(r?.hwmKb ?? NaN);
    l.afterMb = mbOfKb(r?.rssKb ?? NaN);
  }
  for (const [k, l] of loads.entries()) {
    await untilIdle(l.server.pid, { maxMs: 10_000 }); // work that goes on after the answers counts
    l.cpuMs = cpuMsOf(l.server.pid) - cpuAtStart[k]!;
    l.mainCpuMs = mainThreadCpuMsOf(l.server.pid) - mainAtStart[k]!;
  }
  return loads;
}

export const ok = (o: Outcome): boolean => o.status === 200 && o.contentType.startsWith('image/') && o.bytes > 0;
export const rps = (l: ServerLoad): number => l.outcomes.filter(ok).length / l.seconds;
export const p = (l: ServerLoad, q: number): number =>
  percentile(
    l.outcomes.filter(ok).map((o) => o.ms),
    q,
  );
export const failures = (l: ServerLoad): number => l.outcomes.filter((o) => !ok(o)).length;
/** CPU time per successful response, ms (ServerLoad `cpuMs`). */
export const cpuPerOk = (l: ServerLoad): number => l.cpuMs / l.outcomes.filter(ok).length;
/** Main-thread CPU time per successful response, ms (ServerLoad `mainCpuMs`). */
export const mainCpuPerOk = (l: ServerLoad): number => l.mainCpuMs / l.outcomes.filter(ok).length;
