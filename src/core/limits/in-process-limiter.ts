import type { Clock } from '../ports.js';
import { limitFor, type RateLimits, rateLimitedError, renderBudgetError } from './rate-limits.js';

/**
 * The rate limits of rate-limits.ts kept in this process (Node and Deno hosts), so per process
 * where Fastly's are per POP:
 *
 *   - per tenant + client IP: a sliding window (this window's count plus the last one's,
 *     weighted by how much of it still overlaps) of `clientRps × clientWindow` requests; the
 *     request that goes past it puts the IP in the penalty box for `penaltyMinutes`, and every
 *     request until then is refused without being counted, with Retry-After the time left;
 *   - per tenant renders: a fixed window of 60 s from the tenant's first render in it; past
 *     `rendersPerMinute` a render is refused with Retry-After the time until the window ends.
 *
 * Memory is bounded: at most `maxClients` tenant + IP entries and `maxTenants` render budgets;
 * a new one past the cap evicts the oldest (of the same tenant, when it has any), which forgets
 * its count and lets it out of the penalty box early. A request that is let through costs two
 * Map lookups, a clock read and a few additions; it allocates nothing once its entry exists.
 */
export interface InProcessLimiter {
  /** Counts one image request; throws 429 RATE_LIMITED when the client is over its limit or in the penalty box. */
  checkClient(tenant: string, ip: string | undefined): void;
  /** Counts one render; throws 503 RENDER_BUDGET when the tenant has spent this minute's budget. */
  takeRender(tenant: string): void;
  /** Entries held now (for tests and stats). */
  size(): { clients: number; tenants: number };
}

export interface InProcessLimiterOptions {
  limits: RateLimits;
  clock?: Clock;
  /** Default 100,000 (about 10 MB at most). */
  maxClients?: number;
  /** Default 10,000 (only configured tenants render, so far more than needed). */
  maxTenants?: number;
  /** Told of every refusal: 'request' (429) or 'render' (render budget). */
  onRefused?: (scope: 'request' | 'render') => void;
}

export const DEFAULT_MAX_CLIENTS = 100_000;
export const DEFAULT_MAX_TENANTS = 10_000;

interface ClientEntry {
  /** ms epoch when the current window started. */
  start: number;
  count: number;
  /** The previous window's count (0 when it was not the one just before). */
  previous: number;
  /** ms epoch until which the client is refused; 0 when not boxed. */
  boxedUntil: number;
}

interface RenderEntry {
  start: number;
  count: number;
}

const secondsUntil = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000));

export function createInProcessLimiter(opts: InProcessLimiterOptions): InProcessLimiter {
  const clock = opts.clock ?? Date;
  const maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  const maxTenants = opts.maxTenants ?? DEFAULT_MAX_TENANTS;
  // Tenant → IP → entry: two lookups of strings whose hashes V8 keeps (the tenant's configured
  // name, the socket's address), where one `${tenant}|${ip}` key would be a new string to hash
  // on every request (~3× the time on a hit, measured).
  const clients = new Map<string, Map<string, ClientEntry>>();
  let clientCount = 0;
  const renders = new Map<string, RenderEntry>();

  /** A new entry for `ip`, first dropping the oldest of its tenant's (else of any tenant's) when at the cap. */
  function addClient(tenant: string, ip: string, now: number): ClientEntry {
    let ips = clients.get(tenant);
    if (clientCount >= maxClients) {
      const from = ips?.size ? ips : [...clients.values()].find((m) => m.size > 0);
      if (from) {
        from.delete(from.keys().next().value as string);
        clientCount--;
      }
    }
    if (!ips) clients.set(tenant, (ips = new Map()));
    const e: ClientEntry = { start: now, count: 0, previous: 0, boxedUntil: 0 };
    ips.set(ip, e);
    clientCount++;
    return e;
  }

  return {
    checkClient(tenant, ip) {
      const limit = limitFor(opts.limits, tenant);
      if (!ip || limit.clientRps === 0) return;
      const now = clock.now();
      const e = clients.get(tenant)?.get(ip) ?? addClient(tenant, ip, now);
      if (e.boxedUntil > now) {
        opts.onRefused?.('request');
        throw rateLimitedError(secondsUntil(e.boxedUntil, now));
      }
      const windowMs = limit.clientWindow * 1000;
      const elapsed = now - e.start;
      if (elapsed >= windowMs) {
        const windows = Math.floor(elapsed / windowMs);
        e.previous = windows === 1 ? e.count : 0;
        e.count = 0;
        e.start += windows * windowMs;
      }
      const overlap = 1 - (now - e.start) / windowMs;
      if (e.previous * overlap + e.count + 1 > limit.clientRps * limit.clientWindow) {
        e.boxedUntil = now + limit.penaltyMinutes * 60_000;
        // Out of the box with a clean slate.
        e.count = e.previous = 0;
        opts.onRefused?.('request');
        throw rateLimitedError(secondsUntil(e.boxedUntil, now));
      }
      e.count++;
    },

    takeRender(tenant) {
      const limit = limitFor(opts.limits, tenant);
      if (limit.rendersPerMinute === 0) return;
      const now = clock.now();
      let e = renders.get(tenant);
      if (!e) {
        if (renders.size >= maxTenants) renders.delete(renders.keys().next().value as string);
        renders.set(tenant, (e = { start: now, count: 0 }));
      }
      if (now - e.start >= 60_000) {
        e.start = now;
        e.count = 0;
      }
      if (e.count >= limit.rendersPerMinute) {
        opts.onRefused?.('render');
        throw renderBudgetError(tenant, limit, secondsUntil(e.start + 60_000, now));
      }
      e.count++;
    },

    size: () => ({ clients: clientCount, tenants: renders.size }),
  };
}
