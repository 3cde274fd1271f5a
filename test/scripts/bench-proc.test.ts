/**
 * The CPU readings the benches split servers by (scripts/bench/lib/proc.ts): the whole process
 * (every thread, ended ones included) and its main thread alone, from /proc. The first-touch
 * suite reports both per request; here a worker thread's work must show in the first only.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuMsOf, mainThreadCpuMsOf } from '../../scripts/bench/lib/proc.js';

describe('process and main-thread CPU from /proc', () => {
  it("counts a worker thread's work in the process, not in the main thread", async () => {
    const [total0, main0] = [cpuMsOf(process.pid), mainThreadCpuMsOf(process.pid)];
    // The worker spins for 400 ms of wall time, then ends; the main thread waits.
    const worker = new Worker('const end = Date.now() + 400; while (Date.now() < end);', { eval: true });
    await new Promise((resolve, reject) => worker.once('exit', resolve).once('error', reject));
    const [total, main] = [cpuMsOf(process.pid) - total0, mainThreadCpuMsOf(process.pid) - main0];
    expect(total).toBeGreaterThanOrEqual(100); // most of 400 ms, less on a busy machine
    expect(main).toBeGreaterThanOrEqual(0);
    expect(main).toBeLessThan(total / 2);
  });
});
