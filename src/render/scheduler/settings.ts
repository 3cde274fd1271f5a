/**
 * The scheduler's environment variables, read the same way by both renderer hosts (Node's
 * main.ts, Deno's settings.ts). Every problem is reported, none silently defaulted.
 */
import { STALL_MARKER_FOR_TESTS } from './protocol.js';
import { DEFAULT_QUEUE_PER_THREAD, DEFAULT_RENDER_MEMORY_BYTES, DEFAULT_RENDER_TIMEOUT_MS } from './pool.js';

export interface SchedulerSettings {
  /** Render threads; 0 renders on the main thread. */
  threads: number;
  /** RENDER_MEMORY_MB, else the service config's `limits.renderMemoryBytes`. */
  memoryBytes: number;
  /** RENDER_MASTERS_MB: the part of `memoryBytes` masters may keep (0: none); unset, the scheduler's default. */
  masterBytes?: number;
  timeoutMs: number;
  maxQueue: number;
  /** RENDER_TEST_STALL_MS, for the hosts' own tests only: see ThreadInit.stallForTests. */
  stallForTests?: { marker: string; ms: number };
}

export function readSchedulerSettings(
  env: Record<string, string | undefined>,
  defaultThreads: number,
  problems: string[],
  /** The service config's `limits.renderMemoryBytes`: RENDER_MEMORY_MB overrides it. */
  defaultMemoryBytes: number = DEFAULT_RENDER_MEMORY_BYTES,
): SchedulerSettings {
  const int = (name: string, min: number, max: number, fallback: number, what: string): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be ${min}..${max} (${what}), got '${env[name]}'`);
      return fallback;
    }
    return n;
  };
  const threads = int('RENDER_THREADS', 0, 64, defaultThreads, '0 renders on the main thread');
  const memoryMb = int('RENDER_MEMORY_MB', 16, 65_536, defaultMemoryBytes / (1024 * 1024), 'MiB for decoded pixels in flight plus masters');
  const mastersRaw = env.RENDER_MASTERS_MB?.trim();
  const mastersMb = mastersRaw ? int('RENDER_MASTERS_MB', 0, memoryMb, 0, 'MiB of RENDER_MEMORY_MB that decoded masters may keep; 0 keeps none') : undefined;
  const timeoutMs = int('RENDER_TIMEOUT_MS', 1, 600_000, DEFAULT_RENDER_TIMEOUT_MS, 'milliseconds per render');
  const maxQueue = int('RENDER_QUEUE', 0, 10_000, DEFAULT_QUEUE_PER_THREAD * Math.max(1, threads), 'renders waiting; more are answered 503');
  const stallMs = int('RENDER_TEST_STALL_MS', 0, 600_000, 0, 'tests only');
  const stallForTests = stallMs > 0 ? { marker: STALL_MARKER_FOR_TESTS, ms: stallMs } : undefined;
  const masterBytes = mastersMb === undefined ? {} : { masterBytes: Math.floor(mastersMb * 1024 * 1024) };
  return { threads, memoryBytes: Math.floor(memoryMb * 1024 * 1024), ...masterBytes, timeoutMs, maxQueue, ...(stallForTests ? { stallForTests } : {}) };
}

/**
 * The start-up warning for RENDER_TEST_STALL_MS, or undefined when it is unset: with it, any
 * original carrying the test marker holds a render thread, which a production renderer must
 * never allow. Both hosts print it on stderr before they listen.
 */
export function stallWarning(settings: Pick<SchedulerSettings, 'stallForTests'>): string | undefined {
  if (!settings.stallForTests) return undefined;
  return (
    `WARNING: RENDER_TEST_STALL_MS=${settings.stallForTests.ms} is set. It exists for the hosts' own tests: ` +
    `any original containing '${settings.stallForTests.marker}' holds its render thread that long. Never set it in production.`
  );
}
