import type { ObjectStore, ReplicatedStore, StoreReplica } from '../../core/ports.js';
import { StorageError } from '../../storage/storage-error.js';

/** `fetch` with Fastly's `backend` option (upstream.ts has the same; this file stays free of `fastly:*` so tests can import it). */
type FetchWithBackend = (input: Request, init: RequestInit) => Promise<Response>;

/**
 * Fastly allows a fixed number of backend requests per execution (32; 10 on trial accounts)
 * and fails the ones past it. Viceroy does not enforce the limit, so the service counts its
 * own: every backend request of one execution goes through one budget, which refuses the
 * request past BACKEND_REQUEST_LIMIT before it is sent. A refusal is an ordinary failure
 * that the caller reports (a takedown answers 500 INCOMPLETE), never a silent skip.
 *
 * Every backend request also carries this execution's id, so logs (and the Viceroy test's
 * counting proxy) can tell executions apart.
 */
export const EXECUTION_HEADER = 'x-avatar-edge-execution';

/** Fastly's trial-account limit: what the service is designed to fit by default. */
export const DEFAULT_BACKEND_REQUEST_LIMIT = 10;

/**
 * Backend requests one erased image costs on each store when nothing fails: tombstone, list
 * its variants, head its original, one DeleteObjects, then the sweep's check, which is also
 * the verification's (head of the original, list, head of the tombstone). URLs are checked in
 * Core Cache, which costs none. A failover secondary is a second store: twice as many.
 */
export const REQUESTS_PER_IMAGE_PER_STORE = 7;

/** Backend requests one image's takedown makes on `stores` stores, the audit entry included. */
export function takedownRequests(stores: number): number {
  return REQUESTS_PER_IMAGE_PER_STORE * stores + 1;
}

/**
 * Backend requests of the bigger of a split takedown's two calls on `stores` stores: the
 * `remove` call (tombstone, list, head, DeleteObjects: 4 per store) and the `verify` call
 * (the sweep's check: 3 per store), each with its audit entry.
 */
export const REMOVE_STAGE_PER_STORE = 4;
export const VERIFY_STAGE_PER_STORE = REQUESTS_PER_IMAGE_PER_STORE - REMOVE_STAGE_PER_STORE;
export function stageRequests(stores: number): number {
  return Math.max(REMOVE_STAGE_PER_STORE, VERIFY_STAGE_PER_STORE) * stores + 1;
}

/**
 * Images one erase call works on within `limit` on `stores` stores, one request kept for the
 * audit entry; at least one (cut short honestly, 500 INCOMPLETE, if even one does not fit).
 */
export function imagesPerCall(limit: number, stores = 1): number {
  return Math.max(1, Math.floor((limit - 1) / (REQUESTS_PER_IMAGE_PER_STORE * stores)));
}

export class BackendLimitError extends Error {
  constructor(limit: number, hint = 'repeat the call to continue') {
    super(`backend request limit reached: ${limit} per execution (BACKEND_REQUEST_LIMIT); ${hint}`);
    this.name = 'BackendLimitError';
  }
}

export interface BackendBudget {
  readonly limit: number;
  readonly executionId: string;
  /** The service's fetch, counted and refused past the limit. */
  fetch: FetchWithBackend;
  used(): number;
  remaining(): number;
  /** What a refusal tells the operator to do (default: repeat the call), e.g. that the limit is too low for this store setup. */
  setHint(hint: string): void;
  /** The error a refused request fails with. */
  refusal(): BackendLimitError;
  /**
   * Keeps the last `count` requests for the ones `exempt` accepts (the audit entry): checked
   * when each request is sent, so calls that run concurrently cannot all pass a check made
   * earlier and use up the reserve between them.
   */
  keep(count: number, exempt: (req: Request) => boolean): void;
}

export function createBackendBudget(fetchFn: FetchWithBackend, limit: number, executionId: string = crypto.randomUUID()): BackendBudget {
  let used = 0;
  let hint: string | undefined;
  let kept = 0;
  let exempt: (req: Request) => boolean = () => false;
  return {
    limit,
    executionId,
    used: () => used,
    remaining: () => limit - used,
    setHint: (h) => void (hint = h),
    refusal: () => new BackendLimitError(limit, hint),
    keep(count, accepts) {
      kept = count;
      exempt = accepts;
    },
    fetch(input, init) {
      if (used >= limit || (used >= limit - kept && !exempt(input))) return Promise.reject(new BackendLimitError(limit, hint));
      used++;
      return fetchFn(withExecutionId(input, executionId), init);
    },
  };
}

function withExecutionId(req: Request, id: string): Request {
  try {
    req.headers.set(EXECUTION_HEADER, id);
    return req;
  } catch {
    // Immutable headers (a request the runtime handed us): copy it.
    const headers = new Headers(req.headers);
    headers.set(EXECUTION_HEADER, id);
    return new Request(req, { headers });
  }
}

/**
 * The admin API's store on Fastly: refuses store calls once only `reserve` backend requests
 * are left, except the audit log's, so an operation cut short by the limit still writes its
 * audit entry and answers what it did. Refusals are StorageErrors like any other store failure.
 */
export function reserveForAudit(store: ObjectStore, budget: BackendBudget, reserve = 1): ObjectStore | ReplicatedStore {
  budget.keep(reserve, isAuditWrite);
  const wrapped = guardStore(store, budget, reserve);
  const replicated = store as Partial<ReplicatedStore>;
  if (typeof replicated.replicas !== 'function') return wrapped;
  // A takedown addresses each store on its own (replicas()): each one is guarded the same way.
  const replicas: StoreReplica[] = replicated.replicas().map((r) => ({ name: r.name, store: guardStore(r.store, budget, reserve) }));
  return { ...wrapped, replicas: () => replicas };
}

/** A request for an audit entry's object (`audit/…`), path-style (`/{bucket}/audit/…`) or virtual-host (`/audit/…`). */
function isAuditWrite(req: Request): boolean {
  return req.method === 'PUT' && /^\/(?:[^/]+\/)?audit\/\d{4}\//.test(new URL(req.url).pathname);
}

/** Refuses store calls early with a clear error; the budget's own check (keep) is the guarantee. */
function guardStore(store: ObjectStore, budget: BackendBudget, reserve: number): ObjectStore {
  const guard =
    <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>, keyOf: (...a: A) => string) =>
    (...a: A): Promise<R> => {
      const key = keyOf(...a);
      if (!key.startsWith('audit/') && budget.remaining() <= reserve) {
        return Promise.reject(new StorageError({ status: 0, code: 'BackendLimit', message: `S3 ${op} "${key}" not sent: ${budget.refusal().message}`, operation: op, key, retryable: false }));
      }
      return fn(...a);
    };
  const wrapped: ObjectStore = {
    get: guard(
      'get',
      (k: string) => store.get(k),
      (k) => k,
    ),
    head: guard(
      'head',
      (k: string) => store.head(k),
      (k) => k,
    ),
    put: guard(
      'put',
      (k: string, b: Uint8Array, o?: Parameters<ObjectStore['put']>[2]) => store.put(k, b, o),
      (k) => k,
    ),
    delete: guard(
      'delete',
      (k: string) => store.delete(k),
      (k) => k,
    ),
    list: guard(
      'list',
      (p: string, o?: Parameters<ObjectStore['list']>[1]) => store.list(p, o),
      (p) => p,
    ),
  };
  if (store.deleteMany) {
    const many = store.deleteMany.bind(store);
    wrapped.deleteMany = guard(
      'deleteMany',
      (keys: string[]) => many(keys),
      (keys) => `${keys.length} keys`,
    );
  }
  return wrapped;
}
