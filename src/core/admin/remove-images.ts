import { originalKey, variantPrefix } from '../storage-keys.js';
import { imageKey, tenantKey } from '../surrogate-keys.js';
import type { AdminDeps } from './admin-deps.js';
import { mapBounded, withRetries } from './bounded.js';
import { purgeKeys, type PurgeReport } from './purge-keys.js';
import { writeTombstone } from './tombstone.js';
import { storageLeftovers, verifyGone, type VerificationReport } from './verify-gone.js';
import { listAllKeys } from '../list-keys.js';

export interface RemovalRequest {
  tenant: string;
  ids: string[];
  action: 'takedown' | 'erase';
  reason: string;
  ticket: string;
  who: string;
  /** The whole tenant is being erased: also purge the tenant key. */
  wholeTenant?: boolean;
}

export interface ImageRemoval {
  id: string;
  ok: boolean;
  tombstone: string | null;
  deleted: string[];
  errors: string[];
  verification?: VerificationReport;
}

export interface RemovalResult {
  ok: boolean;
  images: ImageRemoval[];
  purge: PurgeReport[];
}

/** Images worked on at once; each also runs up to DELETE_CONCURRENCY deletes. */
export const IMAGE_CONCURRENCY = 4;
/** An image has at most a few dozen stored variants; 4 deletes at once keeps S3 request rates low. */
const DELETE_CONCURRENCY = 4;
/** Rounds of "anything reappeared? delete and purge again" (a render that was in flight at tombstone time). */
const SWEEP_ROUNDS = 3;

async function listNames(deps: AdminDeps, prefix: string): Promise<string[]> {
  return (await listAllKeys(deps.store, prefix)).map((k) => k.slice(prefix.length));
}

async function deleteAll(deps: AdminDeps, keys: string[], img: ImageRemoval): Promise<void> {
  if (keys.length === 0) return;
  const many = deps.store.deleteMany?.bind(deps.store);
  if (many) {
    // One request for them all: Fastly counts backend requests per execution (docs/fastly.md).
    const r = await withRetries(() => many(keys), deps.retry, deps.sleep);
    if (!r.ok) img.errors.push(`delete ${keys.length} keys: ${r.error}`);
    else {
      img.deleted.push(...r.value.deleted);
      for (const f of r.value.failed) img.errors.push(`delete ${f.key}: ${f.error}`);
    }
    return;
  }
  await mapBounded(keys, DELETE_CONCURRENCY, async (key) => {
    const r = await withRetries(() => deps.store.delete(key), deps.retry, deps.sleep);
    if (r.ok) img.deleted.push(key);
    else img.errors.push(`delete ${key}: ${r.error}`);
  });
}

/**
 * Takes images down, in the order that keeps them from coming back:
 * 1. tombstone (from now on every cache miss answers 410 and nothing re-renders);
 * 2. delete the original and every stored variant (listed first: their names are verified later);
 * 3. hard-purge the image keys, so cached copies go;
 * 4. sweep: a render that was already running may write its variant back after step 2, so
 *    re-list, delete and purge again until nothing reappears;
 * 5. verify through the service itself; anything still served is purged once more and re-checked.
 */
export async function removeImages(deps: AdminDeps, req: RemovalRequest): Promise<RemovalResult> {
  const now = new Date((deps.clock ?? Date).now());
  const tenant = deps.config.tenants.get(req.tenant);
  const stored = new Map<string, string[]>();

  const images = await mapBounded(req.ids, IMAGE_CONCURRENCY, async (id): Promise<ImageRemoval> => {
    const img: ImageRemoval = { id, ok: false, tombstone: null, deleted: [], errors: [] };
    const t = await withRetries(
      () => writeTombstone(deps.store, { tenant: req.tenant, id, action: req.action, reason: req.reason, ticket: req.ticket, when: now.toISOString(), who: req.who }),
      deps.retry,
      deps.sleep,
    );
    // Without a tombstone the deletes still go ahead: legal wants it gone more than it wants order.
    if (t.ok) img.tombstone = t.value;
    else img.errors.push(`tombstone: ${t.error}`);

    const prefix = variantPrefix(req.tenant, id);
    const listed = await withRetries(() => listNames(deps, prefix), deps.retry, deps.sleep);
    const names = listed.ok ? listed.value : [];
    if (!listed.ok) img.errors.push(`list ${prefix}: ${listed.error}`);
    stored.set(id, names);
    const original = originalKey(req.tenant, id);
    const head = await withRetries(() => deps.store.head(original), deps.retry, deps.sleep);
    // Deleting a missing key is harmless, but the audit should list only what existed.
    const keys = [...(head.ok && head.value === null ? [] : [original]), ...names.map((n) => prefix + n)];
    await deleteAll(deps, keys, img);
    return img;
  });

  const keys = req.ids.map((id) => imageKey(req.tenant, id));
  if (req.wholeTenant) keys.unshift(tenantKey(req.tenant));
  const purge = await purgeKeys(deps.purger, keys, { soft: false, retry: deps.retry, sleep: deps.sleep });

  for (let round = 0; round < SWEEP_ROUNDS; round++) {
    const again: string[] = [];
    await mapBounded(images, IMAGE_CONCURRENCY, async (img) => {
      const left = await storageLeftovers(deps.store, req.tenant, img.id).catch(() => ({ remaining: [] as string[] }));
      if (left.remaining.length === 0) return;
      await deleteAll(deps, left.remaining, img);
      again.push(imageKey(req.tenant, img.id));
    });
    if (again.length === 0) break;
    purge.push(...(await purgeKeys(deps.purger, again, { soft: false, retry: deps.retry, sleep: deps.sleep })));
  }

  await mapBounded(images, IMAGE_CONCURRENCY, async (img) => {
    const names = stored.get(img.id) ?? [];
    let v = await verifyGone(deps, tenant, req.tenant, img.id, names);
    if (!v.ok && v.failures.some((f) => f.status !== null && f.status < 400)) {
      // Something still answered from cache (e.g. filled by a load that started before the tombstone).
      purge.push(...(await purgeKeys(deps.purger, [imageKey(req.tenant, img.id)], { soft: false, retry: deps.retry, sleep: deps.sleep })));
      v = await verifyGone(deps, tenant, req.tenant, img.id, names);
    }
    img.verification = v;
    // The final state is the truth: an earlier failed delete that a sweep redid is history, not a failure.
    img.ok = v.ok;
  });

  const purgeOk = keys.every((k) => purge.some((p) => p.key === k && p.ok));
  return { ok: purgeOk && images.every((i) => i.ok), images, purge };
}
