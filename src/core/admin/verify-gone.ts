import type { Tenant } from '../config/tenant-config.js';
import type { ObjectStore, StoreReplica } from '../ports.js';
import { originalKey, tombstoneKey, variantPrefix } from '../storage-keys.js';
import { errorText, mapBounded } from './bounded.js';
import { listAllKeys } from '../list-keys.js';
import { VARIANT_NAME_RE } from '../variant.js';

/** The service's own request path (the image pipeline), called in process: no network. */
export type FetchLike = (request: Request) => Promise<Response>;

/** What one store (primary or secondary) holds of the image. */
export interface StoreCheck {
  store: StoreReplica['name'];
  tombstone: boolean;
  /** Object keys of the image still there (should be none). */
  remaining: string[];
  /** Why the store could not be checked (then nothing about it is known). */
  error?: string;
}

export interface VerificationReport {
  /** Every URL answered 410, and every store holds the tombstone and nothing else of the image. */
  ok: boolean;
  /** URLs requested. */
  checked: number;
  /** How many of them answered 410. */
  gone: number;
  /** Each URL that did not answer 410, with what it answered (capped). */
  failures: { url: string; status: number | null; error?: string }[];
  /** Object keys of the image still in any store (should be none); `stores` says where. */
  remaining: string[];
  /** Every store holds the tombstone. */
  tombstone: boolean;
  /** Each store that can serve the image, checked on its own. */
  stores: StoreCheck[];
  /** Why HTTP checks were skipped, if they were (e.g. the tenant is no longer configured). */
  skipped?: string;
}

/** Enough failures to see the pattern; the count is in `checked - gone`. */
const MAX_FAILURES_LISTED = 50;
/** In-process requests: a few in flight is plenty and keeps one erase from hogging the event loop. */
const VERIFY_CONCURRENCY = 8;

interface Probe {
  path: string;
  accept: string;
}

/**
 * Every URL under which a variant of the image could be cached: each stored variant (names
 * listed before deletion), and the tenant's whole breakpoint ladder in every allowed format
 * in both URL forms (query and path template), plus the default URL with and without WebP.
 */
export function verificationProbes(tenant: Tenant, id: string, storedNames: readonly string[]): Probe[] {
  const base = `/${tenant.name}/${id}`;
  const probes: Probe[] = [
    { path: base, accept: 'image/webp,image/*,*/*' },
    { path: base, accept: 'image/jpeg,image/*;q=0.8' },
  ];
  for (const name of storedNames) {
    const m = VARIANT_NAME_RE.exec(name);
    if (!m) continue;
    const [, w, h, fit, g, q, fmt] = m;
    const qs = new URLSearchParams();
    if (w !== '0') qs.set('w', w!);
    if (h !== '0') qs.set('h', h!);
    qs.set('fit', fit!);
    if (g) qs.set('g', g);
    qs.set('q', q!);
    qs.set('fmt', fmt!);
    probes.push({ path: `${base}?${qs}`, accept: '*/*' });
  }
  for (const size of tenant.breakpoints) {
    for (const fmt of tenant.formats) {
      probes.push({ path: `${base}/${size}.${fmt}`, accept: '*/*' });
      probes.push({ path: `${base}?w=${size}&h=${size}&fmt=${fmt}`, accept: '*/*' });
    }
    probes.push({ path: `${base}?w=${size}`, accept: 'image/webp,*/*' });
  }
  const seen = new Set<string>();
  return probes.filter((p) => {
    const k = `${p.path} ${p.accept}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/** What of the image is still in the store (original, variants) and whether the tombstone is there. */
export async function storageLeftovers(store: ObjectStore, tenantName: string, id: string): Promise<{ remaining: string[]; tombstone: boolean }> {
  const remaining: string[] = [];
  if (await store.head(originalKey(tenantName, id))) remaining.push(originalKey(tenantName, id));
  remaining.push(...(await listAllKeys(store, variantPrefix(tenantName, id))));
  return { remaining, tombstone: (await store.head(tombstoneKey(tenantName, id))) !== null };
}

/** storageLeftovers on each store; a store that cannot be listed is reported, not skipped. */
export async function checkStores(stores: readonly StoreReplica[], tenantName: string, id: string): Promise<StoreCheck[]> {
  return Promise.all(
    stores.map(async ({ name, store }): Promise<StoreCheck> => {
      try {
        return { store: name, ...(await storageLeftovers(store, tenantName, id)) };
      } catch (err) {
        return { store: name, tombstone: false, remaining: [], error: errorText(err) };
      }
    }),
  );
}

/**
 * Re-requests every probe through the service itself and checks every store. A takedown is
 * only reported done when every URL answers 410 and no store has anything left to serve from.
 */
export async function verifyGone(
  deps: { stores: readonly StoreReplica[]; fetch?: FetchLike },
  tenant: Tenant | undefined,
  tenantName: string,
  id: string,
  storedNames: readonly string[],
): Promise<VerificationReport> {
  const stores = await checkStores(deps.stores, tenantName, id);
  const report: VerificationReport = {
    ok: false,
    checked: 0,
    gone: 0,
    failures: [],
    remaining: [...new Set(stores.flatMap((s) => s.remaining))],
    tombstone: stores.every((s) => s.tombstone),
    stores,
  };
  if (!tenant) report.skipped = `tenant '${tenantName}' is not configured: no URL can serve it`;
  else if (!deps.fetch) report.skipped = 'no request path to verify through on this host';
  else {
    const probes = verificationProbes(tenant, id, storedNames);
    const fetch = deps.fetch;
    const statuses = await mapBounded(probes, VERIFY_CONCURRENCY, async (p) => {
      try {
        const res = await fetch(new Request(`http://localhost${p.path}`, { headers: { accept: p.accept } }));
        await res.body?.cancel();
        return { url: p.path, status: res.status as number | null };
      } catch (err) {
        return { url: p.path, status: null, error: err instanceof Error ? err.message : String(err) };
      }
    });
    report.checked = statuses.length;
    report.gone = statuses.filter((s) => s.status === 410).length;
    report.failures = statuses.filter((s) => s.status !== 410).slice(0, MAX_FAILURES_LISTED);
  }
  report.ok = report.gone === report.checked && stores.every((s) => !s.error && s.tombstone && s.remaining.length === 0);
  return report;
}
