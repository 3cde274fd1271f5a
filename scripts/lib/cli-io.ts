import type { ObjectStore } from '../../src/core/ports.js';
import type { EnvRecord } from '../../src/storage/config.js';
import { isStorageError } from '../../src/storage/storage-error.js';
import type { ProgressSink } from './progress.js';

/** What the storage CLIs talk to; the entry scripts pass the process's, tests their own. */
export interface StorageCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: EnvRecord;
  /** Where progress goes (stderr); `isTTY` picks a bar or plain lines. */
  progress: ProgressSink;
  /** Aborted on SIGINT/SIGTERM: work in flight finishes, nothing new starts, the report is printed. */
  signal?: AbortSignal;
}

/** Exit codes shared by the storage CLIs. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export class UsageError extends Error {}

export function positiveInt(name: string, raw: string | undefined, fallback: number, max = 64): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new UsageError(`--${name} must be an integer from 1 to ${max}`);
  return Number(raw);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The entry scripts' io: stdout/stderr, the environment, SIGINT/SIGTERM → abort (a second one
 * exits at once). Run the scripts with `node --import tsx`, not the tsx CLI: the tsx CLI runs
 * them in a child process and ends it on Ctrl-C before the report is printed.
 */
export function processIo(): StorageCliIo {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping: letting work in flight finish (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: process.env,
    progress: { write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY === true, columns: process.stderr.columns },
    signal: controller.signal,
  };
}

/** A store's failure, with which store it was (`--from`, `--to`, `the store`) and what that store is. */
export class StoreFailure extends Error {
  constructor(
    readonly label: string,
    readonly description: string,
    readonly error: unknown,
  ) {
    // The store's own message (operation, key, bucket, status and S3 code; never credentials).
    super(error instanceof Error ? error.message : String(error), { cause: error });
    this.name = 'StoreFailure';
  }
}

/** The store, with every failure labelled as StoreFailure so a CLI can say which store failed. */
export function labelStoreErrors(store: ObjectStore, label: string, description: string): ObjectStore {
  const wrap = <T>(p: Promise<T>): Promise<T> =>
    p.catch((e: unknown) => {
      throw e instanceof StoreFailure ? e : new StoreFailure(label, description, e);
    });
  return {
    get: (key) => wrap(store.get(key)),
    head: (key) => wrap(store.head(key)),
    put: (key, body, opts) => wrap(store.put(key, body, opts)),
    delete: (key) => wrap(store.delete(key)),
    list: (prefix, opts) => wrap(store.list(prefix, opts)),
  };
}

/**
 * One line for a store failure that stopped a CLI: which store (and its bucket), what failed,
 * and the store's error code, e.g. `--from (s3 http://… bucket avatars): S3 list "originals/"
 * in bucket avatars failed: 403 InvalidAccessKeyId [InvalidAccessKeyId]`. No stack trace.
 */
export function storeFailureLine(tool: string, err: StoreFailure): string {
  const cause = err.error;
  const code = isStorageError(cause) ? cause.code : (cause as { code?: unknown } | null)?.code;
  const first = err.message.split('\n')[0]!.slice(0, 400);
  const tag = typeof code === 'string' && code && !first.includes(code) ? ` [${code}]` : '';
  return `${tool}: ${err.label} store failed (${err.description}): ${first}${tag}`;
}
