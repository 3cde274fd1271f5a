import type { Tenant } from '../config/tenant-config.js';
import type { ObjectStore, StoreReplica } from '../ports.js';
import { originalKey, variantPrefix } from '../storage-keys.js';
import { isTombstoned } from '../tombstone.js';
import { errorText, mapBounded } from '../bounded.js';
import { listAllKeys } from '../list-keys.js';
import { parseVariantName } from '../variant.js';

/** The service's own request path (the image pipeline), called in process: no network. */
export type FetchLike = (request: Request) => Promise<Response>;

/**
 * What the edge's own cache holds for one image URL, looked up without any backend request
 * (Fastly: Core Cache lookups of the URL's canonical keys): the status a cached copy answers
 * with, a 200 winning when the URL maps to several entries; the status of the refusal when the
 * URL cannot resolve (e.g. 404 for an unknown tenant); null when nothing is cached.
 */
export type CachedStatus = (request: Request) => Promise<number | null>;

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
  /** URLs checked. */
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
  /**
   * How the URLs were checked: `request` through the service's own pipeline (Node, Deno), or
   * `edge-cache` by cache lookups (Fastly, where each renderer request is a backend request):
   * a URL counts as gone when its cached copy is a 410, or when nothing is cached and every
   * store holds the tombstone and nothing else (the next miss then answers 410 from the tombstone).
   */
  via?: 'request' | 'edge-cache';
  /** edge-cache: how many of the URLs had no cached copy. */
  notCached?: number;
  /** edge-cache: the URLs checked, for a check from outside (the admin CLI requests them after the API answers). */
  probes?: Probe[];
  /** The first store that could not be read, and why (`stores` has each one's). */
  storeError?: string;
}

/** Enough failures to see the pattern; the count is in `checked - gone`. */
const MAX_FAILURES_LISTED = 50;
/** In-process requests: a few in flight is plenty and keeps one erase from hogging the event loop. */
const VERIFY_CONCURRENCY = 8;

export interface Probe {
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
    const v = parseVariantName(name);
    if (!v) continue;
    const qs = new URLSearchParams();
    if (v.width) qs.set('w', String(v.width));
    if (v.height) qs.set('h', String(v.height));
    qs.set('fit', v.fit);
    if (v.gravity) qs.set('g', v.gravity);
    qs.set('q', String(v.quality));
    qs.set('fmt', v.format);
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

/**
 * What of the image is still in the store (original, variants): two requests (HEAD + list);
 * on Fastly every request counts (docs/fastly.md).
 */
export async function storageLeftovers(store: ObjectStore, tenantName: string, id: string): Promise<{ remaining: string[] }> {
  const remaining: string[] = [];
  if (await store.head(originalKey(tenantName, id))) remaining.push(originalKey(tenantName, id));
  remaining.push(...(await listAllKeys(store, variantPrefix(tenantName, id))));
  return { remaining };
}

/**
 * storageLeftovers and the tombstone on each store (three requests per store); a store that
 * cannot be read is reported, not skipped.
 */
export async function checkStores(stores: readonly StoreReplica[], tenantName: string, id: string): Promise<StoreCheck[]> {
  return Promise.all(
    stores.map(async ({ name, store }): Promise<StoreCheck> => {
      try {
        const { remaining } = await storageLeftovers(store, tenantName, id);
        return { store: name, remaining, tombstone: await isTombstoned(store, tenantName, id) };
      } catch (err) {
        return { store: name, tombstone: false, remaining: [], error: errorText(err) };
      }
    }),
  );
}

/**
 * Checks every store and every URL of the image: through the service itself (`fetch`), or,
 * where given, by looking each URL up in the edge cache (`cached`, no request per URL). A
 * takedown is only reported done when every URL answers 410 and no store has anything left
 * to serve from. `checkedStores` is a store check the caller has just made (the takedown's
 * sweep), so the stores are not read twice in a row.
 */
export async function verifyGone(
  deps: { stores: readonly StoreReplica[]; fetch?: FetchLike; cached?: CachedStatus },
  tenant: Tenant | undefined,
  tenantName: string,
  id: string,
  storedNames: readonly string[],
  checkedStores?: StoreCheck[],
): Promise<VerificationReport> {
  const stores = checkedStores ?? (await checkStores(deps.stores, tenantName, id));
  const broken = stores.find((s) => s.error);
  const storesOk = stores.every((s) => !s.error && s.tombstone && s.remaining.length === 0);
  const report: VerificationReport = {
    ok: false,
    checked: 0,
    gone: 0,
    failures: [],
    remaining: [...new Set(stores.flatMap((s) => s.remaining))],
    tombstone: stores.every((s) => s.tombstone),
    stores,
    ...(broken ? { storeError: `${broken.store}: ${broken.error}` } : {}),
  };
  if (!tenant) report.skipped = `tenant '${tenantName}' is not configured: no URL can serve it`;
  else if (deps.cached) {
    const probes = verificationProbes(tenant, id, storedNames);
    const cached = deps.cached;
    // A miss goes to the renderer, which answers 410 from the tombstone once no store has anything else.
    const missIsGone = storesOk;
    const statuses = await mapBounded(probes, VERIFY_CONCURRENCY, async (p) => {
      try {
        return { url: p.path, status: await cached(new Request(`http://localhost${p.path}`, { headers: { accept: p.accept } })) };
      } catch (err) {
        return { url: p.path, status: null, error: errorText(err) };
      }
    });
    report.via = 'edge-cache';
    report.probes = probes;
    report.checked = statuses.length;
    report.notCached = statuses.filter((s) => s.status === null && !('error' in s)).length;
    const gone = (s: (typeof statuses)[number]) => s.status === 410 || (s.status === null && !('error' in s) && missIsGone);
    report.gone = statuses.filter(gone).length;
    report.failures = statuses
      .filter((s) => !gone(s))
      .map((s) => (s.status === null && !('error' in s) ? { ...s, error: 'not cached, and a store still holds the image or no tombstone' } : s))
      .slice(0, MAX_FAILURES_LISTED);
  } else if (!deps.fetch) report.skipped = 'no request path to verify through on this host';
  else {
    report.via = 'request';
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
  report.ok = report.gone === report.checked && storesOk;
  return report;
}
