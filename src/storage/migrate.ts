import { type BatchOptions, errorText, runBatch } from '../core/bounded.js';
import type { ObjectStore, StoredObject } from '../core/ports.js';
import { listAllKeys } from '../core/list-keys.js';
import { sha256Hex } from '../core/sha256.js';

/**
 * Copies objects from one store to another (e.g. S3 → R2 before a cut-over) and proves each
 * copy: the destination's bytes are read back and their SHA-256 compared with the source's.
 * Platform-neutral: the CLI (scripts/migrate) supplies stores, the checkpoint and progress.
 */

export interface MigrateOptions {
  from: ObjectStore;
  to: ObjectStore;
  /** Key prefixes to copy, e.g. `originals/` or `originals/acme/`. */
  prefixes: readonly string[];
  /** Keeps only the keys it returns true for (an id prefix, say). */
  filter?: (key: string) => boolean;
  /** Keys already copied and verified by an earlier run: not touched again. */
  done?: ReadonlySet<string>;
  /** Called once a key is verified at the destination (or found identical there). */
  onVerified?: (key: string) => void;
  /** Called after every key, with the running report (progress output). */
  onProgress?: (report: MigrateReport, total: number) => void;
  /** Called when the listing is complete, with the number of keys to go through. */
  onListed?: (total: number) => void;
  /** Copies in flight at once (default 4). */
  concurrency?: number;
  /** List and compare with HEAD only; write nothing. */
  dryRun?: boolean;
  /** Stops starting new copies; those in flight finish and are recorded. */
  signal?: AbortSignal;
}

export interface MigrateReport {
  /** Keys found under the prefixes (after the filter). */
  listed: number;
  /** Written to the destination and verified. */
  copied: number;
  /** Not written: verified by an earlier run (checkpoint) or already identical at the destination. */
  skipped: number;
  /** Whose destination bytes were read back and matched the source this run. */
  verified: number;
  failed: Array<{ key: string; error: string }>;
  /** Bytes written (dry run: bytes that would be written). */
  bytes: number;
  /** Dry run: keys that would be copied. */
  wouldCopy: number;
  dryRun: boolean;
  interrupted: boolean;
}

/** Four copies at once: each is a GET, a PUT and a verifying GET; enough to keep both stores busy, gentle on rate limits. */
export const DEFAULT_MIGRATE_CONCURRENCY = 4;
/** Attempts per key: a transient error or a corrupted transfer gets one more try before it is reported. */
const ATTEMPTS = 2;

export async function migrateObjects(opts: MigrateOptions): Promise<MigrateReport> {
  const report: MigrateReport = { listed: 0, copied: 0, skipped: 0, verified: 0, failed: [], bytes: 0, wouldCopy: 0, dryRun: !!opts.dryRun, interrupted: false };
  const keys: string[] = [];
  for (const prefix of opts.prefixes) for (const k of await listAllKeys(opts.from, prefix)) if (!opts.filter || opts.filter(k)) keys.push(k);
  report.listed = keys.length;
  opts.onListed?.(keys.length);

  /** One copy attempt: source → destination → read back → compare. Returns an error text, or null when verified. */
  async function copyOnce(key: string, read?: StoredObject | null): Promise<string | null> {
    const src = read ?? (await opts.from.get(key));
    if (!src) return 'vanished from the source while migrating';
    const want = await sha256Hex(src.body);
    await opts.to.put(key, src.body, { ...(src.contentType ? { contentType: src.contentType } : {}), metadata: src.metadata ?? {} });
    const back = await opts.to.get(key);
    if (!back) return 'missing at the destination right after it was written';
    const got = await sha256Hex(back.body);
    if (got !== want) return `checksum mismatch after copy: sha256 ${want.slice(0, 16)}… at the source, ${got.slice(0, 16)}… at the destination`;
    report.verified++;
    report.bytes += src.body.byteLength;
    return null;
  }

  async function one(key: string): Promise<void> {
    if (opts.done?.has(key)) {
      report.skipped++;
      return;
    }
    if (opts.dryRun) {
      const [s, d] = await Promise.all([opts.from.head(key), opts.to.head(key)]);
      if (s && d && s.size === d.size) report.skipped++;
      else if (s) {
        report.wouldCopy++;
        report.bytes += s.size;
      }
      return;
    }
    // Already identical at the destination (a run without a checkpoint, or a half-done cut-over): no write.
    let src: StoredObject | null | undefined;
    if (await opts.to.head(key)) {
      const [s, d] = await Promise.all([opts.from.get(key), opts.to.get(key)]);
      if (s && d && (await sha256Hex(s.body)) === (await sha256Hex(d.body))) {
        report.skipped++;
        report.verified++;
        opts.onVerified?.(key);
        return;
      }
      src = s;
    }
    let error = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const problem = await copyOnce(key, attempt === 1 ? src : undefined);
        if (problem === null) {
          report.copied++;
          opts.onVerified?.(key);
          return;
        }
        error = problem;
      } catch (err) {
        error = errorText(err);
      }
    }
    report.failed.push({ key, error });
  }

  const batch: BatchOptions<string> = {
    signal: opts.signal,
    onError: (key, error) => void report.failed.push({ key, error }),
    after: () => opts.onProgress?.(report, keys.length),
  };
  if (await runBatch(keys, opts.concurrency ?? DEFAULT_MIGRATE_CONCURRENCY, batch, one)) report.interrupted = true;
  return report;
}
