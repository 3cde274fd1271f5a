import { parseArgs } from 'node:util';
import { ConfigError } from '../../src/core/config/service-config.js';
import type { ObjectStore } from '../../src/core/ports.js';
import { TENANT_RE } from '../../src/core/request/parse-path.js';
import { imageOfKey } from '../../src/core/storage-keys.js';
import { DEFAULT_MIGRATE_CONCURRENCY, type MigrateReport, migrateObjects } from '../../src/storage/migrate.js';
import { EXIT, formatBytes, labelStoreErrors, positiveInt, StoreFailure, storeFailureLine, type StorageCliIo, UsageError } from '../lib/cli-io.js';
import { createProgress } from '../lib/progress.js';
import { STORE_SPEC_HELP, storeFromSpec } from '../lib/store-spec.js';
import { openCheckpoint } from './checkpoint.js';

export const HELP = `Usage: npm run migrate -- --from <store> --to <store> [options]

Copies objects from one bucket (or directory) to another under the same keys, reads every
copy back and compares its SHA-256 with the source's, and prints a report. The copy half of
moving a hot set between stores (S3 → R2): copy, verify, then point the service at the new
store (STORAGE/S3_*), then run again to pick up what changed in between.

Options:
  --from STORE          the source (required; see below)
  --to STORE            the destination (required)
  --tenant NAME         only this tenant (default: every tenant)
  --prefix ID_PREFIX    only images whose id starts with this (e.g. u-)
  --kinds LIST          what to copy: originals,tombstones (default), variants
                        (tombstones keep taken-down images answering 410 after the cut-over)
  --concurrency N       copies in flight (default ${DEFAULT_MIGRATE_CONCURRENCY}, max 64)
  --dry-run             list and compare sizes with HEAD only; write nothing
  --resume-file PATH    checkpoint: keys verified so far are appended to PATH, and a rerun
                        with the same PATH skips them (no re-read, no re-copy)
  --json                print the report as JSON
  --help                this text

Without a checkpoint, a key already at the destination with the same SHA-256 is skipped
(read, compared, not written); a differing one is overwritten.

${STORE_SPEC_HELP}

Example (S3 archive → R2):
  SRC_S3_BUCKET=avatars SRC_S3_REGION=eu-west-1 SRC_S3_ACCESS_KEY_ID=… SRC_S3_SECRET_ACCESS_KEY=… \\
  DST_S3_ENDPOINT=https://<ACCOUNT_ID>.r2.cloudflarestorage.com DST_S3_BUCKET=avatars DST_S3_ACCESS_KEY_ID=… DST_S3_SECRET_ACCESS_KEY=… \\
  npm run migrate -- --from SRC_ --to DST_ --resume-file migrate.checkpoint

Exit codes: 0 done · 1 some keys failed, or a store failed (one line names it) · 2 usage or configuration error · 130 interrupted (rerun with the same --resume-file)
Docs: docs/storage.md`;

const KINDS = ['originals', 'tombstones', 'variants'] as const;
type Kind = (typeof KINDS)[number];

export interface MigrateCliIo extends StorageCliIo {
  /** Tests wrap the stores (to corrupt a copy, or to interrupt a run at a known point). */
  wrapStores?: (stores: { from: ObjectStore; to: ObjectStore }) => { from: ObjectStore; to: ObjectStore };
}

export async function runMigrateCli(argv: string[], io: MigrateCliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(`migrate: ${e.message}\nRun with --help for usage.`);
      return EXIT.usage;
    }
    if (e instanceof StoreFailure) {
      io.err(storeFailureLine('migrate', e));
      return EXIT.failed;
    }
    throw e;
  }
}

async function run(argv: string[], io: MigrateCliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        tenant: { type: 'string' },
        prefix: { type: 'string' },
        kinds: { type: 'string' },
        concurrency: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'resume-file': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    io.out(HELP);
    return EXIT.ok;
  }
  if (!values.from || !values.to) throw new UsageError('--from and --to are required');
  if (values.tenant !== undefined && !TENANT_RE.test(values.tenant)) throw new UsageError('--tenant must be a tenant name (a-z, 0-9, -)');
  const kinds = (values.kinds ?? 'originals,tombstones')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean) as Kind[];
  const unknown = kinds.filter((k) => !KINDS.includes(k));
  if (unknown.length || kinds.length === 0) throw new UsageError(`--kinds must be a comma-separated list of ${KINDS.join(', ')}`);
  const concurrency = positiveInt('concurrency', values.concurrency, DEFAULT_MIGRATE_CONCURRENCY);
  const idPrefix = values.prefix ?? '';
  const dryRun = values['dry-run'] === true;

  const src = storeFromSpec(values.from, io.env);
  const dst = storeFromSpec(values.to, io.env);
  if (src.description === dst.description) throw new UsageError(`--from and --to are the same store (${src.description})`);
  const labelled = { from: labelStoreErrors(src.store, '--from', src.description), to: labelStoreErrors(dst.store, '--to', dst.description) };
  const stores = io.wrapStores ? io.wrapStores(labelled) : labelled;
  // A dry run writes nothing, not even a checkpoint; it may read one to show what a resume would skip.
  const checkpoint = values['resume-file'] ? openCheckpoint(values['resume-file'], src.description, dst.description, { readOnly: dryRun }) : undefined;

  io.err(`migrate${dryRun ? ' (dry run)' : ''}: ${src.description} → ${dst.description}`);
  io.err(
    `  ${kinds.join(' + ')}${values.tenant ? ` of tenant ${values.tenant}` : ''}${idPrefix ? `, ids starting with '${idPrefix}'` : ''}${checkpoint ? `, ${checkpoint.done.size} keys already done` : ''}`,
  );
  const prefixes = kinds.map((k) => (values.tenant ? `${k}/${values.tenant}/` : `${k}/`));
  // Only keys of the layout (storage-keys.ts) are copied; an id prefix needs the id of each key.
  const filter = (key: string) => {
    const img = imageOfKey(key);
    return img !== null && img.id.startsWith(idPrefix);
  };

  const started = Date.now();
  let progress: ReturnType<typeof createProgress> | undefined;
  const processed = (r: MigrateReport) => r.copied + r.skipped + r.failed.length + r.wouldCopy;
  const summary = (r: MigrateReport) => (dryRun ? `${r.wouldCopy} to copy, ${r.skipped} present` : `${r.copied} copied, ${r.skipped} skipped, ${r.failed.length} failed`);
  const report = await migrateObjects({
    from: stores.from,
    to: stores.to,
    prefixes,
    filter,
    done: checkpoint?.done,
    onVerified: (key) => checkpoint?.record(key),
    onListed: (total) => (progress = createProgress(io.progress, 'keys', total)),
    onProgress: (r) => progress?.update(processed(r), summary(r)),
    concurrency,
    dryRun,
    signal: io.signal,
  });
  progress?.finish(processed(report), summary(report));
  printReport(io, report, Date.now() - started, values.json === true);
  if (report.interrupted) return EXIT.interrupted;
  return report.failed.length ? EXIT.failed : EXIT.ok;
}

function printReport(io: StorageCliIo, r: MigrateReport, ms: number, json: boolean): void {
  if (json) {
    io.out(JSON.stringify({ ...r, ms }, null, 2));
    return;
  }
  const seconds = (ms / 1000).toFixed(1);
  if (r.dryRun) {
    io.out(
      `dry run: listed ${r.listed}, would copy ${r.wouldCopy} (${formatBytes(r.bytes)}), skipped ${r.skipped} (same size at the destination or in the checkpoint); nothing written (${seconds} s)`,
    );
  } else {
    io.out(`listed ${r.listed}, copied ${r.copied}, skipped ${r.skipped}, verified ${r.verified}, failed ${r.failed.length}, bytes ${r.bytes} (${formatBytes(r.bytes)}) in ${seconds} s`);
  }
  for (const f of r.failed.slice(0, 50)) io.out(`  failed ${f.key}: ${f.error}`);
  if (r.failed.length > 50) io.out(`  … and ${r.failed.length - 50} more`);
  if (r.interrupted) io.out('interrupted: rerun with the same --resume-file to continue where this run stopped');
}
