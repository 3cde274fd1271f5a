import type { StoreReplica } from '../ports.js';
import { replicasOf } from '../replicas.js';
import { originalKey, variantPrefix } from '../storage-keys.js';
import { imageKey, tenantKey } from '../surrogate-keys.js';
import type { AdminDeps } from './admin-deps.js';
import { mapBounded, withRetries } from '../bounded.js';
import { purgeKeys, type PurgeReport } from '../purge/purge-keys.js';
import { writeTombstone } from '../tombstone.js';
import { checkStores, type StoreCheck, verifyGone, type VerificationReport } from './verify-gone.js';
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
  /**
   * A host that cannot do it all in one call (Fastly's backend request limit) splits it:
   * `remove` writes the tombstones, deletes and purges; `verify` purges again, sweeps and
   * verifies, with `variants` the stored variant names the `remove` call listed. Absent: all
   * of it in one call.
   */
  stage?: RemovalStage;
  /** stage `verify`: the variant names the `remove` call found (their URLs are verified too). */
  variants?: string[];
}

export type RemovalStage = 'remove' | 'verify';

/** One step that failed (after retries), and on which store. */
export interface StepFailure {
  step: 'tombstone' | 'read' | 'list' | 'delete' | 'fence' | 'purge' | 'verify';
  store?: StoreReplica['name'];
  key?: string;
  error: string;
}

export interface ImageRemoval {
  id: string;
  ok: boolean;
  tombstone: string | null;
  /** Object keys deleted (from any store). */
  deleted: string[];
  /** `failures` as text, for the audit log and the CLI. */
  errors: string[];
  failures: StepFailure[];
  verification?: VerificationReport;
  /** Why it is not done, in one line (absent when ok). */
  incomplete?: string;
  /** stage `remove`: the variant names listed on the stores, for the `verify` call. */
  variants?: string[];
}

export interface RemovalResult {
  ok: boolean;
  images: ImageRemoval[];
  purge: PurgeReport[];
  /** The first reason it is not done, in one line, naming the step and the store (absent when ok). */
  incomplete?: string;
  /** A split `verify` call's sweep found and deleted late writes: another `verify` call must check. */
  recheck?: boolean;
}

/** Images worked on at once; each also runs up to DELETE_CONCURRENCY deletes per store. */
export const IMAGE_CONCURRENCY = 4;
/** An image has at most a few dozen stored variants; 4 deletes at once keeps S3 request rates low. */
const DELETE_CONCURRENCY = 4;
/** Rounds of "anything reappeared? delete and purge again" (a write from another process that raced the tombstone). */
const SWEEP_ROUNDS = 3;

export const describeFailure = (f: StepFailure): string => `${f.step}${f.store ? ` on ${f.store}` : ''}${f.key ? ` ${f.key}` : ''}: ${f.error}`;

function fail(img: ImageRemoval, f: StepFailure): void {
  img.failures.push(f);
  img.errors.push(describeFailure(f));
}

async function deleteAll(deps: AdminDeps, replica: StoreReplica, keys: string[], img: ImageRemoval): Promise<void> {
  if (keys.length === 0) return;
  const deleted = (key: string) => {
    if (!img.deleted.includes(key)) img.deleted.push(key);
  };
  const many = replica.store.deleteMany?.bind(replica.store);
  if (many) {
    // One request for them all: Fastly counts backend requests per execution (docs/fastly.md).
    const r = await withRetries(() => many(keys), deps.retry, deps.sleep);
    if (!r.ok) fail(img, { step: 'delete', store: replica.name, key: keys.length === 1 ? keys[0]! : `${keys.length} keys`, error: r.error });
    else {
      r.value.deleted.forEach(deleted);
      for (const f of r.value.failed) fail(img, { step: 'delete', store: replica.name, key: f.key, error: f.error });
    }
    return;
  }
  await mapBounded(keys, DELETE_CONCURRENCY, async (key) => {
    const r = await withRetries(() => replica.store.delete(key), deps.retry, deps.sleep);
    if (r.ok) deleted(key);
    else fail(img, { step: 'delete', store: replica.name, key, error: r.error });
  });
}

/** Lists and deletes the image's original and variants on one store; returns the variant names found. */
async function deleteFrom(deps: AdminDeps, replica: StoreReplica, tenant: string, img: ImageRemoval): Promise<string[]> {
  const prefix = variantPrefix(tenant, img.id);
  const listed = await withRetries(() => listAllKeys(replica.store, prefix), deps.retry, deps.sleep);
  if (!listed.ok) fail(img, { step: 'list', store: replica.name, key: prefix, error: listed.error });
  const names = listed.ok ? listed.value.map((k) => k.slice(prefix.length)) : [];
  const original = originalKey(tenant, img.id);
  const head = await withRetries(() => replica.store.head(original), deps.retry, deps.sleep);
  // Deleting a missing key is harmless, but the audit should list only what existed.
  const keys = [...(head.ok && head.value === null ? [] : [original]), ...names.map((n) => prefix + n)];
  await deleteAll(deps, replica, keys, img);
  return names;
}

/** The one line that says why an image is not done: the final state first, then the step that caused it. */
function incompleteLine(img: ImageRemoval, fenceFailed: boolean): string | undefined {
  if (img.ok) return undefined;
  const v = img.verification;
  for (const s of v?.stores ?? []) {
    const problem = s.error ? 'could not be checked' : !s.tombstone ? 'has no tombstone' : s.remaining.length ? `still holds ${s.remaining.length} object(s)` : null;
    if (!problem) continue;
    const cause = img.failures.find((f) => f.store === s.store && f.step !== 'verify');
    if (cause) return `${describeFailure(cause)} (the ${s.store} store ${problem})`;
    return `verify on ${s.store}: the store ${problem}${s.error ? `: ${s.error}` : ''}`;
  }
  if (fenceFailed) return describeFailure(img.failures.find((f) => f.step === 'fence')!);
  if (v && v.gone < v.checked) {
    const f = v.failures[0];
    return `verify: ${v.checked - v.gone} of ${v.checked} URLs do not answer 410${f ? ` (${f.status ?? f.error ?? 'error'} ${f.url})` : ''}`;
  }
  return img.failures[0] ? describeFailure(img.failures[0]) : 'verification failed';
}

/**
 * Takes images down on every store that can serve them (primary and secondary), in the order
 * that keeps them from coming back:
 * 1. tombstone on each store (from now on every cache miss answers 410, also when reads fall
 *    over to the secondary, and nothing re-renders or uploads);
 * 2. delete the original and every stored variant on each store (listed first: their names
 *    are verified later);
 * 3. fence: renders and uploads of the image in flight in this process are cancelled (they
 *    store nothing and answer 410) and waited for;
 * 4. hard-purge the image keys, so cached copies go;
 * 5. sweep: a write from another process that raced the tombstone is undone by that process,
 *    or found here: check each store, delete and purge again until nothing reappears;
 * 6. verify: the sweep's last check of each store (tombstone there, nothing else), and every
 *    URL through the service itself or, on Fastly, in the edge cache; anything still served
 *    is purged once more and re-checked.
 * Deletes go out as one DeleteObjects per store where the store has it (`deleteMany`).
 * Failures do not stop the later steps (legal wants it gone more than it wants order); each is
 * reported with its step and store, and the image is ok only when the final state is.
 * A split removal (`stage`) does 1-4 in its `remove` call, ok when each of them went through,
 * and 4-6 in its `verify` call, ok only when the final state is.
 */
export async function removeImages(deps: AdminDeps, req: RemovalRequest): Promise<RemovalResult> {
  const now = new Date((deps.clock ?? Date).now());
  const tenant = deps.config.tenants.get(req.tenant);
  const stores = replicasOf(deps.store);
  const stored = new Map<string, string[]>();
  const fenceFailed = new Set<string>();

  const images = await mapBounded(req.ids, IMAGE_CONCURRENCY, async (id): Promise<ImageRemoval> => {
    const img: ImageRemoval = { id, ok: false, tombstone: null, deleted: [], errors: [], failures: [] };
    if (req.stage === 'verify') {
      stored.set(id, req.variants ?? []);
      return img;
    }
    const tombstone = { tenant: req.tenant, id, action: req.action, reason: req.reason, ticket: req.ticket, when: now.toISOString(), who: req.who };
    const written = await Promise.all(stores.map((r) => withRetries(() => writeTombstone(r.store, tombstone), deps.retry, deps.sleep)));
    written.forEach((t, i) => {
      if (t.ok) img.tombstone ??= t.value;
      else fail(img, { step: 'tombstone', store: stores[i]!.name, error: t.error });
    });

    // Cancels at once (loads and uploads that start later see the tombstone); waited for after the deletes.
    const fencing = deps.inFlight?.fence(req.tenant, id, deps.fenceTimeoutMs);

    const names = await Promise.all(stores.map((r) => deleteFrom(deps, r, req.tenant, img)));
    stored.set(id, [...new Set(names.flat())]);

    if (fencing) {
      const fence = await fencing;
      if (fence.stillRunning > 0) {
        fenceFailed.add(id);
        fail(img, { step: 'fence', error: `${fence.stillRunning} render(s) or upload(s) of this image were still running when the wait ran out` });
      }
    }
    return img;
  });

  const keys = req.ids.map((id) => imageKey(req.tenant, id));
  if (req.wholeTenant) keys.unshift(tenantKey(req.tenant));
  const purge = await purgeKeys(deps.purger, keys, { soft: false, retry: deps.retry, sleep: deps.sleep });

  if (req.stage === 'remove') {
    // Done when every tombstone, delete and purge went through; the `verify` call proves the final state.
    for (const img of images) {
      img.variants = stored.get(img.id) ?? [];
      img.ok = img.failures.length === 0;
      if (!img.ok) img.incomplete = describeFailure(img.failures[0]!);
    }
    return finishResult(req, images, purge, keys);
  }

  // The sweep's last store check is the verification's: on Fastly every store read is a
  // backend request, and reading the same keys twice in a row proves nothing more.
  const checks = new Map<string, StoreCheck[]>();
  let dirty = images;
  // A split `verify` call has room for one sweep: what it finds and deletes, the next call checks.
  const rounds = req.stage === 'verify' ? 1 : SWEEP_ROUNDS;
  const untombstoned = new Map<string, StoreReplica['name']>();
  for (let round = 0; round < rounds && dirty.length > 0; round++) {
    const again: ImageRemoval[] = [];
    await mapBounded(dirty, IMAGE_CONCURRENCY, async (img) => {
      const found = await checkStores(stores, req.tenant, img.id);
      for (const c of found) if (!c.error && !c.tombstone) untombstoned.set(img.id, c.store);
      // A store that could not be read now is read again by the verification (a blip passes).
      if (found.every((c) => !c.error)) checks.set(img.id, found);
      const left = found.filter((c) => c.remaining.length > 0);
      if (left.length === 0) return;
      again.push(img);
      await Promise.all(left.map((c) => deleteAll(deps, stores.find((r) => r.name === c.store)!, c.remaining, img)));
      // What was found and deleted is checked again (next round, or by the verification).
      checks.delete(img.id);
    });
    if (again.length > 0)
      purge.push(
        ...(await purgeKeys(
          deps.purger,
          again.map((i) => imageKey(req.tenant, i.id)),
          { soft: false, retry: deps.retry, sleep: deps.sleep },
        )),
      );
    dirty = again;
  }

  if (req.stage === 'verify' && dirty.length > 0) {
    // Something was written since the `remove` call (a race from another process) and deleted
    // now; checking again does not fit this call, so it is answered as one more part, never ok.
    for (const img of images) {
      const prefix = variantPrefix(req.tenant, img.id);
      const late = img.deleted.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
      img.variants = [...new Set([...(stored.get(img.id) ?? []), ...late])];
      const bare = untombstoned.get(img.id);
      // Without its tombstone no recheck can pass: the first call was not made, or was undone.
      if (bare) fail(img, { step: 'verify', store: bare, error: 'the store has no tombstone: send the takedown again without `continue`' });
      img.ok = img.failures.length === 0;
      if (!img.ok) img.incomplete = describeFailure(img.failures[0]!);
    }
    const result = finishResult(req, images, purge, keys);
    return result.ok ? { ...result, recheck: true } : result;
  }

  await mapBounded(images, IMAGE_CONCURRENCY, async (img) => {
    const names = stored.get(img.id) ?? [];
    const verifyDeps = { stores, ...(deps.cached ? { cached: deps.cached } : {}), ...(deps.fetch ? { fetch: deps.fetch } : {}) };
    let v = await verifyGone(verifyDeps, tenant, req.tenant, img.id, names, checks.get(img.id));
    if (!v.ok && v.failures.some((f) => f.status !== null && f.status < 400)) {
      // Something still answered from cache (e.g. filled by a load that started before the tombstone).
      purge.push(...(await purgeKeys(deps.purger, [imageKey(req.tenant, img.id)], { soft: false, retry: deps.retry, sleep: deps.sleep })));
      v = await verifyGone(verifyDeps, tenant, req.tenant, img.id, names);
    }
    img.verification = v;
    // The final state is the truth: an earlier failed delete that a sweep redid is history, not a failure.
    img.ok = v.ok && !fenceFailed.has(img.id);
    img.incomplete = incompleteLine(img, fenceFailed.has(img.id));
  });

  return finishResult(req, images, purge, keys);
}

function finishResult(req: RemovalRequest, images: ImageRemoval[], purge: PurgeReport[], keys: string[]): RemovalResult {
  const failedPurge = keys.filter((k) => !purge.some((p) => p.key === k && p.ok));
  const firstImage = images.find((i) => !i.ok);
  const incomplete = firstImage
    ? `${req.ids.length > 1 ? `${firstImage.id}: ` : ''}${firstImage.incomplete}`
    : failedPurge.length
      ? `purge ${failedPurge[0]}: ${[...purge].reverse().find((p) => p.key === failedPurge[0])?.error ?? 'failed'}`
      : undefined;
  return { ok: incomplete === undefined, images, purge, ...(incomplete ? { incomplete } : {}) };
}
