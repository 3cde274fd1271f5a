import { EdgeRateLimiter, PenaltyBox, RateCounter } from 'fastly:edge-rate-limiter';
import { type RateLimit, rateLimitedError, renderBudgetError } from '../../core/limits/rate-limits.js';

/** Names of the POP's rate counters and penalty box (created on first use; nothing to provision). */
export const CLIENT_COUNTER = 'avatar_edge_clients';
export const CLIENT_PENALTY_BOX = 'avatar_edge_clients_pb';
export const RENDER_COUNTER = 'avatar_edge_renders';
/** Marks a shield POP's budget refusal, so edges pass it on instead of calling the renderer themselves (upstream.ts). */
export const RENDER_BUDGET_HEADER = 'x-render-budget';

/**
 * The client limit's penalty box and limiter. They only name the POP's counter and box (the
 * counts live in the platform, each call asks it), so one pair serves every request of the
 * sandbox: made on the first request that is checked, not per request.
 */
let clientLimiter: { box: PenaltyBox; limiter: EdgeRateLimiter } | undefined;

function openClientLimiter(): { box: PenaltyBox; limiter: EdgeRateLimiter } {
  const box = new PenaltyBox(CLIENT_PENALTY_BOX);
  return { box, limiter: new EdgeRateLimiter(new RateCounter(CLIENT_COUNTER), box) };
}

/**
 * The per-client-IP limit of core/limits/rate-limits.ts with Fastly's Edge Rate Limiting. The entry is
 * tenant + IP, so a tenant's own limit applies to its traffic only. A client in the penalty
 * box is refused without being counted again.
 */
export function checkClient(tenant: string, ip: string | undefined, limit: RateLimit): void {
  if (!ip || limit.clientRps === 0) return;
  const entry = `${tenant}|${ip}`;
  const { box, limiter } = (clientLimiter ??= openClientLimiter());
  const over = box.has(entry) || limiter.checkRate(entry, 1, limit.clientWindow, limit.clientRps, limit.penaltyMinutes);
  // The penalty box does not say how long an entry has left: the whole penalty.
  if (over) throw rateLimitedError(limit.penaltyMinutes * 60);
}

/**
 * The per-tenant render budget: called just before this POP asks the renderer for a variant.
 * Over budget it throws a 503 (a server-side condition, not the client's doing), which the
 * cache answers with the stale copy when it has one (stale-if-error, reason RENDER_BUDGET).
 */
export function takeRender(tenant: string, limit: RateLimit): void {
  if (limit.rendersPerMinute === 0) return;
  const counter = new RateCounter(RENDER_COUNTER);
  if (counter.lookupCount(tenant, 60) >= limit.rendersPerMinute) {
    throw renderBudgetError(tenant, limit, 60, { [RENDER_BUDGET_HEADER]: 'exceeded' });
  }
  counter.increment(tenant, 1);
}
