import { parseArgs } from 'node:util';
import { ConfigError, loadServiceConfig } from '../../src/core/config/service-config.js';
import type { Renderer } from '../../src/core/ports.js';
import { type BackfillReport, backfillTenant, listOriginalIds } from '../../src/core/precompute/backfill.js';
import { DEFAULT_RENDER_CONCURRENCY } from '../../src/core/upload/render-variants.js';
import { PRECOMPUTE_MAX_SIZE, standardSizes } from '../../src/core/upload/standard-variants.js';
import { FORMATS, type Format, MAX_VARIANT_SIDE } from '../../src/core/variant.js';
import { loadCodecModules } from '../../src/hosts/node/load-wasm.js';
import { createNodeStore } from '../../src/hosts/node/node-store.js';
import { readServiceInput } from '../../src/hosts/node/read-config.js';
import { createJsquashRenderer } from '../../src/render/jsquash-renderer.js';
import { describeStorage } from '../../src/storage/config.js';
import { EXIT, formatBytes, labelStoreErrors, positiveInt, StoreFailure, storeFailureLine, type StorageCliIo, UsageError } from '../lib/cli-io.js';
import { createProgress } from '../lib/progress.js';

export const HELP = `Usage: npm run precompute -- --tenant NAME [options]

Renders a tenant's standard variants into the variant store for every original that lacks
them, so later requests are plain reads: square cover boxes at the tenant's default quality,
sizes = its breakpoints up to ${PRECOMPUTE_MAX_SIZE} plus its default size, formats = AVIF (for
tenants that allow it, from 128 px), WebP and, for clients without either, JPEG (PNG for
originals with alpha). Uploads do the same for new images;
this backfills the ones stored before. Variants already stored are skipped, so it can be
stopped (Ctrl-C) and run again.

Options:
  --tenant NAME       the tenant (required)
  --prefix ID_PREFIX  only images whose id starts with this (e.g. u-)
  --sizes LIST        box sizes instead of the default, e.g. 64,128,256 (snapped up to breakpoints)
  --formats LIST      formats instead of the default, e.g. webp,jpeg (must be the tenant's)
  --concurrency N     renders at once (default ${DEFAULT_RENDER_CONCURRENCY}; each holds a decoded original in memory)
  --dry-run           count what is missing; render and write nothing
  --json              print the report as JSON
  --help              this text

Configuration, as for npm start: AVATAR_CONFIG (tenants; default config/local.json), and the
store from STORAGE, DATA_DIR, S3_* (docs/storage.md).

Exit codes: 0 done · 1 some variants failed, or the store failed (one line names it) · 2 usage or configuration error · 130 interrupted
Docs: docs/storage.md`;

export interface PrecomputeCliIo extends StorageCliIo {
  /** Tests wrap the renderer (to count renders). */
  wrapRenderer?: (r: Renderer) => Renderer;
}

export async function runPrecomputeCli(argv: string[], io: PrecomputeCliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(`precompute: ${e.message}\nRun with --help for usage.`);
      return EXIT.usage;
    }
    if (e instanceof StoreFailure) {
      io.err(storeFailureLine('precompute', e));
      return EXIT.failed;
    }
    throw e;
  }
}

function list(name: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list`);
  return items;
}

async function run(argv: string[], io: PrecomputeCliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tenant: { type: 'string' },
        prefix: { type: 'string' },
        sizes: { type: 'string' },
        formats: { type: 'string' },
        concurrency: { type: 'string' },
        'dry-run': { type: 'boolean' },
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
  if (!values.tenant) throw new UsageError('--tenant is required');
  const config = loadServiceConfig(readServiceInput(io.env as NodeJS.ProcessEnv).input);
  const tenant = config.tenants.get(values.tenant);
  if (!tenant) throw new UsageError(`no tenant '${values.tenant}' in the configuration (known: ${[...config.tenants.keys()].join(', ')})`);

  const sizes = list('sizes', values.sizes)?.map((s) => {
    if (!/^\d{1,4}$/.test(s) || Number(s) < 1 || Number(s) > MAX_VARIANT_SIDE) throw new UsageError(`--sizes must be integers from 1 to ${MAX_VARIANT_SIDE}`);
    return Number(s);
  });
  const formats = list('formats', values.formats)?.map((f) => (f === 'jpg' ? 'jpeg' : f)) as Format[] | undefined;
  const badFormat = formats?.find((f) => !FORMATS.includes(f) || !tenant.formats.includes(f));
  if (badFormat) throw new UsageError(`--formats: '${badFormat}' is not one of tenant ${tenant.name}'s formats (${tenant.formats.join(', ')})`);
  const concurrency = positiveInt('concurrency', values.concurrency, DEFAULT_RENDER_CONCURRENCY, 32);
  const dryRun = values['dry-run'] === true;

  const node = createNodeStore(io.env, (msg, err) => io.err(`${msg}: ${err instanceof Error ? err.message : ''}`));
  const storage = node.config;
  const store = labelStoreErrors(node.store, 'the', describeStorage(storage));
  const ids = await listOriginalIds(store, tenant.name, values.prefix ?? '');
  io.err(`precompute${dryRun ? ' (dry run)' : ''}: tenant ${tenant.name}${values.prefix ? `, ids starting with '${values.prefix}'` : ''}: ${ids.length} originals in ${describeStorage(storage)}`);
  io.err(
    `  sizes ${standardSizes(tenant, sizes).join(',')}; formats ${formats?.join(',') ?? `${tenant.formats.includes('avif') ? 'avif (from 128 px) + ' : ''}webp + jpeg (png for alpha)`}; concurrency ${concurrency}`,
  );

  // Codecs are only loaded when something may need rendering.
  let renderer: Renderer = { render: () => Promise.reject(new Error('dry run: nothing is rendered')) };
  if (!dryRun && ids.length) {
    const jsquash = createJsquashRenderer(await loadCodecModules(), { limits: config.limits });
    renderer = io.wrapRenderer ? io.wrapRenderer(jsquash) : jsquash;
  }

  const started = Date.now();
  const progress = createProgress(io.progress, 'images', ids.length);
  const summary = (r: BackfillReport) => `${r.rendered} ${dryRun ? 'missing' : 'rendered'}, ${r.upToDate} up to date, ${r.failed.length} failed`;
  const report = await backfillTenant(
    {
      store,
      renderer,
      tenant,
      ...(sizes ? { sizes } : {}),
      ...(formats ? { formats } : {}),
      concurrency,
      dryRun,
      signal: io.signal,
      onImage: (r) => progress.update(r.done, summary(r)),
    },
    ids,
  );
  progress.finish(report.done, summary(report));

  const ms = Date.now() - started;
  if (values.json) io.out(JSON.stringify({ ...report, ms }, null, 2));
  else {
    const seconds = (ms / 1000).toFixed(1);
    io.out(
      dryRun
        ? `dry run: ${report.images} images, ${report.upToDate} up to date, ${report.rendered} variants missing, ${report.present} present; nothing written (${seconds} s)`
        : `${report.interrupted ? `${report.done} of ${report.images}` : report.images} images, ${report.upToDate} up to date, ${report.rendered} variants rendered (${formatBytes(report.bytes)}), ${report.present} already stored, ${report.failed.length} failed in ${seconds} s`,
    );
    if (report.tombstoned) io.out(`  ${report.tombstoned} taken-down images skipped`);
    for (const f of report.failed.slice(0, 50)) io.out(`  failed ${tenant.name}/${f.id}${f.variant ? ` ${f.variant}` : ''}: ${f.error}`);
    if (report.interrupted) io.out('interrupted: run again to render what is left (stored variants are skipped)');
  }
  if (report.interrupted) return EXIT.interrupted;
  return report.failed.length ? EXIT.failed : EXIT.ok;
}
