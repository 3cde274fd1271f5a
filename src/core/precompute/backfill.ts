import { type BatchOptions, runBatch } from '../bounded.js';
import { isTombstoned } from '../tombstone.js';
import type { Tenant } from '../config/tenant-config.js';
import { originalHasAlpha } from '../image/original-alpha.js';
import type { ObjectStore, Renderer } from '../ports.js';
import { imageOfKey, originalKey, tenantPrefix, variantPrefix } from '../storage-keys.js';
import { DEFAULT_RENDER_CONCURRENCY, renderVariants } from '../upload/render-variants.js';
import { standardVariants } from '../upload/standard-variants.js';
import { type Format, type Variant, variantName } from '../variant.js';
import { listAllKeys, listKeys } from '../list-keys.js';

/**
 * Backfills a tenant's standard variants (or chosen sizes and formats) into the variant
 * store: for images uploaded before precompute existed, migrated in from elsewhere, or after
 * a tenant's breakpoints changed. Variants already stored are skipped, so a rerun (or a run
 * after an interruption) only does what is left. Platform-neutral; `npm run precompute` drives it.
 */

export interface BackfillOptions {
  store: ObjectStore;
  renderer: Renderer;
  tenant: Tenant;
  /** Only ids starting with this. */
  idPrefix?: string;
  sizes?: readonly number[];
  formats?: readonly Format[];
  /** Renders in flight at once (across images). */
  concurrency?: number;
  /** Find what is missing; render and write nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onImage?: (report: BackfillReport, total: number) => void;
}

export interface BackfillReport {
  images: number;
  /** Images with every wanted variant already stored. */
  upToDate: number;
  /** Variants rendered and stored (dry run: that would be). */
  rendered: number;
  /** Variants already stored, left alone. */
  present: number;
  bytes: number;
  /** Taken-down images found with an original still present: left alone. */
  tombstoned: number;
  failed: Array<{ id: string; variant?: string; error: string }>;
  /** Images finished (the progress count). */
  done: number;
  dryRun: boolean;
  interrupted: boolean;
}

/** Ids of the tenant's originals starting with `idPrefix`, sorted. */
export async function listOriginalIds(store: ObjectStore, tenant: string, idPrefix = ''): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of listKeys(store, tenantPrefix('originals', tenant))) {
    const img = imageOfKey(key);
    if (img && img.tenant === tenant && img.id.startsWith(idPrefix)) ids.push(img.id);
  }
  return ids.sort();
}

async function storedNames(store: ObjectStore, tenant: string, id: string): Promise<Set<string>> {
  const prefix = variantPrefix(tenant, id);
  return new Set((await listAllKeys(store, prefix)).map((k) => k.slice(prefix.length)));
}

export async function backfillTenant(opts: BackfillOptions, ids?: readonly string[]): Promise<BackfillReport> {
  const { store, tenant } = opts;
  const report: BackfillReport = { images: 0, upToDate: 0, rendered: 0, present: 0, bytes: 0, tombstoned: 0, failed: [], done: 0, dryRun: !!opts.dryRun, interrupted: false };
  const todo = ids ?? (await listOriginalIds(store, tenant.name, opts.idPrefix));
  report.images = todo.length;
  // The wanted formats depend on alpha only when the caller did not name them.
  const needsAlpha = !opts.formats?.length;

  async function one(id: string): Promise<void> {
    if (await isTombstoned(store, tenant.name, id)) {
      report.tombstoned++;
      return;
    }
    const key = originalKey(tenant.name, id);
    const info = await store.head(key);
    if (!info) return; // deleted since the listing
    // An original read to sniff its alpha is kept for the renders.
    let source: Uint8Array | undefined;
    const hasAlpha = needsAlpha ? await originalHasAlpha(info.metadata, async () => (source = (await store.get(key))?.body)) : false;
    if (hasAlpha === undefined) return; // deleted since the listing
    const wanted = standardVariants(tenant, id, { hasAlpha, ...(opts.sizes ? { sizes: opts.sizes } : {}), ...(opts.formats ? { formats: opts.formats } : {}) });
    const have = await storedNames(store, tenant.name, id);
    const missing: Variant[] = wanted.filter((v) => !have.has(variantName(v)));
    report.present += wanted.length - missing.length;
    if (missing.length === 0) {
      report.upToDate++;
      return;
    }
    if (opts.dryRun) {
      report.rendered += missing.length;
      return;
    }
    source ??= (await store.get(key))?.body;
    if (!source) return;
    // One image's variants in sequence: images run side by side, so `concurrency` bounds renders overall.
    const result = await renderVariants({ store, renderer: opts.renderer, source, variants: missing, concurrency: 1, signal: opts.signal });
    // A takedown that started while this image rendered either lists (and deletes) these
    // writes, or is seen here and they are undone: nothing stays next to a tombstone.
    if (result.stored > 0 && (await isTombstoned(store, tenant.name, id))) {
      for (const key of await listAllKeys(store, variantPrefix(tenant.name, id))) await store.delete(key);
      report.tombstoned++;
      return;
    }
    report.rendered += result.stored;
    report.bytes += result.bytes;
    for (const f of result.failed) report.failed.push({ id, variant: f.variant, error: f.error });
  }

  const batch: BatchOptions<string> = {
    signal: opts.signal,
    onError: (id, error) => void report.failed.push({ id, error }),
    after: () => {
      report.done++;
      opts.onImage?.(report, todo.length);
    },
  };
  if (await runBatch(todo, opts.concurrency ?? DEFAULT_RENDER_CONCURRENCY, batch, one)) report.interrupted = true;
  return report;
}
